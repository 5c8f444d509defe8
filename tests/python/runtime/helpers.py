"""Shared pieces of the runtime tests: real gRPC servers on loopback with
generic handlers over the real messages, and byte streams that are
produced and checked without ever being held whole."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import threading
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

if TYPE_CHECKING:
    from typing_extensions import Self

MiB = 1024 * 1024


def method_handler(
    kind: str, fn: Callable[..., Any], request_type: Any, response_type: Any
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of `kind` (unary_unary, stream_unary, stream_stream...)
    serializing the given message types."""
    factory = getattr(grpc, f"{kind}_rpc_method_handler")
    handler: grpc.RpcMethodHandler[Any, Any] = factory(
        fn,
        request_deserializer=request_type.FromString,
        response_serializer=response_type.SerializeToString,
    )
    return handler


def service(
    name: str, methods: dict[str, grpc.RpcMethodHandler[Any, Any]]
) -> grpc.GenericRpcHandler[Any, Any]:
    """A generic handler of service `name`."""
    return grpc.method_handlers_generic_handler(name, methods)


def multicallable(
    channel: grpc.Channel | grpc.aio.Channel,
    kind: str,
    path: str,
    request_type: Any,
    response_type: Any,
) -> Any:
    """A client callable of `kind` for `path` (/service/method)."""
    make = getattr(channel, kind)
    return make(
        path,
        request_serializer=request_type.SerializeToString,
        response_deserializer=response_type.FromString,
    )


@contextlib.asynccontextmanager
async def aio_server(
    handlers: Sequence[grpc.GenericRpcHandler[Any, Any]], options: Sequence[tuple[str, Any]] = ()
) -> AsyncIterator[str]:
    """A grpc.aio server in the running loop, with the options of the
    plugin's hooks server (and `options`); yields its address."""
    from mattermost_plugin._transport import server_options

    server = grpc.aio.server(options=server_options() + list(options))
    server.add_generic_rpc_handlers(tuple(handlers))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


class ServerThread:
    """A grpc.aio server on an event loop of its own, in a thread: for tests
    of blocking clients."""

    def __init__(
        self,
        make_handlers: Callable[[], Sequence[grpc.GenericRpcHandler[Any, Any]]],
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self._make_handlers = make_handlers
        self._options = options
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.address = ""

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with aio_server(self._make_handlers(), self._options) as address:
            self.address = address
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        stop = self._stop
        if stop is not None:
            self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(10)


class Pattern:
    """A reproducible stream of pseudo-random bytes, made chunk by chunk, and
    hashed as it is made."""

    def __init__(self, total: int, chunk: int = 64 * 1024, seed: int = 7) -> None:
        self.total = total
        self.chunk = chunk
        self.seed = seed
        self.digest = hashlib.sha256()
        self.produced = 0

    def chunks(self) -> Iterator[bytes]:
        """The chunks; the digest covers what was taken."""
        rng = random.Random(self.seed)
        left = self.total
        while left > 0:
            n = min(self.chunk, left)
            data = rng.randbytes(n)
            self.digest.update(data)
            self.produced += n
            left -= n
            yield data

    async def achunks(self) -> AsyncIterator[bytes]:
        """The chunks, as an async iterable."""
        for data in self.chunks():
            yield data
            await asyncio.sleep(0)

    def expected(self) -> str:
        """The digest of the whole stream (without consuming `chunks`)."""
        digest = hashlib.sha256()
        rng = random.Random(self.seed)
        left = self.total
        while left > 0:
            n = min(self.chunk, left)
            digest.update(rng.randbytes(n))
            left -= n
        return digest.hexdigest()


class PatternFile:
    """A binary file object over a `Pattern` that records how much was read
    (reads of any size)."""

    def __init__(self, pattern: Pattern) -> None:
        self._chunks = pattern.chunks()
        self._buf = b""
        self.read_sizes: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.read_sizes.append(size)
        if size < 0:
            raise AssertionError("the whole file was asked for")
        while len(self._buf) < size:
            more = next(self._chunks, b"")
            if not more:
                break
            self._buf += more
        data, self._buf = self._buf[:size], self._buf[size:]
        return data


class Digest:
    """Hashes bytes as they arrive and checks chunk sizes."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self.size = 0
        self.largest = 0
        self.pieces = 0

    def update(self, data: bytes) -> None:
        self._digest.update(data)
        self.size += len(data)
        self.largest = max(self.largest, len(data))
        self.pieces += 1

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


@contextlib.contextmanager
def traced_peak() -> Iterator[list[int]]:
    """Measures the peak of Python allocations in the block (bytes, above
    what was allocated when it started); the list gets the figure. With
    MM_PYRT_REPORT=1 it is printed (pytest -s)."""
    result: list[int] = []
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    try:
        yield result
    finally:
        _, peak = tracemalloc.get_traced_memory()
        result.append(peak - base)
        if started:
            tracemalloc.stop()
        if os.environ.get("MM_PYRT_REPORT"):
            test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
            print(f"\n[memory] {test}: peak of Python allocations {result[0] / MiB:.2f} MiB")
