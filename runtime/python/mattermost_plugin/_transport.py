"""What the generated API clients call: channels with the bridge's message
limits, and one place that makes calls, attaches the token, applies the
timeout and turns every failure into a `PluginAPIError`.

`Calls` serves the blocking `PluginAPI`, `AsyncCalls` the asyncio
`AsyncPluginAPI`. Three shapes of call:

- `unary`: one request, one response. An AppError in field 1 of the response
  raises; so does a failed call (no `grpc.RpcError` escapes).
- `stream_unary`: an `io.Reader` parameter (`InstallPlugin`, `UploadData`...),
  sent as the request message followed by one message per chunk of at most
  `CHUNK_SIZE` bytes, read lazily from the source.
- `http`: `PluginHTTP`, a bidirectional stream of `HTTPRequest` and
  `HTTPResponse` frames (common.proto); both bodies stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
)
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypeAlias, TypeVar

import grpc
import grpc.aio

from .errors import PluginAPIError, error_from_app_error, error_from_rpc_error

if TYPE_CHECKING:
    from ._http import HTTPRequest, HTTPResponse
    from .pb.mattermost.plugin.v1 import common_pb2

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_TIMEOUT",
    "MAX_MESSAGE_SIZE",
    "STREAM_WINDOW_SIZE",
    "TOKEN_HEADER",
    "AsyncByteSource",
    "AsyncCalls",
    "ByteSource",
    "Calls",
    "aconnect",
    "aiter_chunks",
    "channel_options",
    "connect",
    "iter_chunks",
    "server_options",
]

DEFAULT_TIMEOUT = 30.0
"""Seconds a call may take unless the client or the call says otherwise."""

CHUNK_SIZE = 64 * 1024
"""The most bytes one stream message carries (the Go bridge's ChunkSize)."""

MAX_MESSAGE_SIZE = 4 * 1024 * 1024
"""The largest message the server's API accepts: grpc-go's default receive
limit, which the Go bridge keeps. Larger values (bytes of a file, say) must
travel as streams."""

STREAM_WINDOW_SIZE = 256 * 1024
"""The flow-control window of a stream (the Go bridge's StreamWindowSize):
what a peer may send on one stream before the reader takes it, so what a
slow reader holds unread. Fixing it also turns off gRPC's bandwidth-delay
probing, which would otherwise grow windows to many MiB on a fast link."""

TOKEN_HEADER = "x-mm-bridge-token"
"""The metadata key of the per-process token (the Go `bridge.TokenHeader`)."""

ByteSource: TypeAlias = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]
"""Bytes for an `io.Reader` parameter: the bytes themselves, a binary file
object (read in `CHUNK_SIZE` pieces), or an iterable of byte chunks."""

AsyncByteSource: TypeAlias = ByteSource | AsyncIterable[bytes]
"""A `ByteSource`, or an async iterable of byte chunks (asyncio clients and
handlers only)."""

_Resp = TypeVar("_Resp")
_Resp_co = TypeVar("_Resp_co", covariant=True)

_Msg = TypeVar("_Msg")


def _window_options() -> list[tuple[str, Any]]:
    return [
        ("grpc.http2.bdp_probe", 0),
        ("grpc.http2.lookahead_bytes", STREAM_WINDOW_SIZE),
    ]


def channel_options() -> list[tuple[str, Any]]:
    """The gRPC options of a channel to the server's API, matching the limits
    of its grpc-go server: requests up to `MAX_MESSAGE_SIZE` (a larger one
    fails here, with RESOURCE_EXHAUSTED, before it is sent), responses of any
    size (grpc-go sends up to 2 GiB by default; gRPC Python would refuse more
    than 4 MiB); a fixed stream window (`STREAM_WINDOW_SIZE`)."""
    return [
        ("grpc.max_send_message_length", MAX_MESSAGE_SIZE),
        ("grpc.max_receive_message_length", -1),
        *_window_options(),
    ]


def server_options() -> list[tuple[str, Any]]:
    """The gRPC options of the plugin's hooks server: no message size limit
    either way, as go-plugin's client has it (it dials with math.MaxInt32
    both ways); a fixed stream window (`STREAM_WINDOW_SIZE`)."""
    return [
        ("grpc.max_receive_message_length", -1),
        ("grpc.max_send_message_length", -1),
        *_window_options(),
    ]


def connect(address: str) -> grpc.Channel:
    """A blocking channel to `address` (`host:port`) with the bridge's
    options."""
    return grpc.insecure_channel(address, options=channel_options())


def aconnect(address: str) -> grpc.aio.Channel:
    """An asyncio channel to `address` (`host:port`) with the bridge's
    options. Create it inside the event loop that uses it."""
    return grpc.aio.insecure_channel(address, options=channel_options())


# --- Byte sources. ---


def iter_chunks(source: ByteSource, *, coalesce: bool = False) -> Iterator[bytes]:
    """The bytes of `source` in pieces of at most `CHUNK_SIZE`, never holding
    more than one or two: a file object is read `CHUNK_SIZE` at a time, the
    chunks of an iterable are passed on as they come (larger ones split,
    empty ones skipped), bytes are sliced. With `coalesce`, small pieces are
    gathered into full `CHUNK_SIZE` ones (for a receiver that takes the
    whole stream before it answers, where many tiny messages only cost).
    Raises `TypeError` at once for anything else (text included)."""
    chunks = _iter_chunks(source)
    return _coalesce(chunks) if coalesce else chunks


def _iter_chunks(source: ByteSource) -> Iterator[bytes]:
    value: object = source  # callers are not always type-checked
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _slices(memoryview(value))
    if isinstance(value, str):
        raise TypeError(
            "a byte source must be bytes, a binary file or an iterable of bytes, not str"
        )
    read = getattr(value, "read", None)
    if callable(read):
        return _read_chunks(read)
    if isinstance(value, Iterable):
        return _split_chunks(iter(value))
    raise TypeError(
        "a byte source must be bytes, a binary file or an iterable of bytes, "
        f"not {type(source).__name__}"
    )


async def aiter_chunks(source: AsyncByteSource, *, coalesce: bool = False) -> AsyncIterator[bytes]:
    """`iter_chunks` for the event loop: bytes are sliced in place, an async
    iterable is iterated, and a file object or other iterable is read one
    chunk at a time in a worker thread, so that a slow source does not stall
    the loop."""
    if isinstance(source, AsyncIterable):
        buf = bytearray()
        async for chunk in source:
            for piece in _split(chunk):
                if not coalesce or (not buf and len(piece) == CHUNK_SIZE):
                    yield piece
                    continue
                buf += piece
                while len(buf) >= CHUNK_SIZE:
                    yield bytes(buf[:CHUNK_SIZE])
                    del buf[:CHUNK_SIZE]
        if buf:
            yield bytes(buf)
        return
    chunks = iter_chunks(source, coalesce=coalesce)
    if isinstance(source, (bytes, bytearray, memoryview)):
        for chunk in chunks:
            yield chunk
        return
    loop = asyncio.get_running_loop()
    while True:
        next_piece = await loop.run_in_executor(None, _next_chunk, chunks)
        if next_piece is None:
            return
        yield next_piece


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _slices(data: memoryview) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK_SIZE):
        yield bytes(data[start : start + CHUNK_SIZE])


def _read_chunks(read: Callable[[int], Any]) -> Iterator[bytes]:
    while True:
        data = read(CHUNK_SIZE)
        if not data:
            return
        if isinstance(data, str):
            raise TypeError("a byte source must be opened in binary mode, not text mode")
        yield from _split(data)


def _coalesce(chunks: Iterator[bytes]) -> Iterator[bytes]:
    buf = bytearray()
    for chunk in chunks:
        if not buf and len(chunk) == CHUNK_SIZE:
            yield chunk
            continue
        buf += chunk
        while len(buf) >= CHUNK_SIZE:
            yield bytes(buf[:CHUNK_SIZE])
            del buf[:CHUNK_SIZE]
    if buf:
        yield bytes(buf)


def _split_chunks(chunks: Iterator[Any]) -> Iterator[bytes]:
    for chunk in chunks:
        yield from _split(chunk)


def _split(chunk: Any) -> Iterator[bytes]:
    if not isinstance(chunk, (bytes, bytearray, memoryview)):
        raise TypeError(f"a chunk of a byte source must be bytes, not {type(chunk).__name__}")
    if len(chunk) <= CHUNK_SIZE:
        if len(chunk):
            yield bytes(chunk)
        return
    yield from _slices(memoryview(chunk))


class _Recorded(Iterator[_Msg]):
    """An iterator that remembers the exception its source raised: gRPC
    consumes request iterators in a thread of its own and reports such an
    exception only as a cancelled call."""

    def __init__(self, messages: Iterator[_Msg]) -> None:
        self._messages = messages
        self.error: BaseException | None = None
        self.stopped = False

    def __next__(self) -> _Msg:
        if self.stopped:
            raise StopIteration
        try:
            return next(self._messages)
        except StopIteration:
            raise
        except BaseException as exc:
            self.error = exc
            raise


def _chunk_messages(head: _Msg, chunk_field: str, source: ByteSource) -> Iterator[_Msg]:
    chunks = iter_chunks(source, coalesce=True)
    first = next(chunks, b"")
    setattr(head, chunk_field, first)
    yield head
    if not first:
        return
    cls = type(head)
    for chunk in chunks:
        yield cls(**{chunk_field: chunk})


async def _achunk_messages(
    head: _Msg, chunk_field: str, source: AsyncByteSource
) -> AsyncIterator[_Msg]:
    chunks = aiter_chunks(source, coalesce=True)
    try:
        first = await chunks.__anext__()
    except StopAsyncIteration:
        first = b""
    setattr(head, chunk_field, first)
    yield head
    if not first:
        return
    cls = type(head)
    async for chunk in chunks:
        yield cls(**{chunk_field: chunk})


# --- AppErrors in responses. ---

_APP_ERROR = "mattermost.plugin.v1.AppError"
_app_error_fields: dict[type, str | None] = {}


def _app_error_field(cls: type) -> str | None:
    """The name of field 1 of a response type when it is an AppError."""
    try:
        return _app_error_fields[cls]
    except KeyError:
        pass
    name = None
    descriptor = getattr(cls, "DESCRIPTOR", None)
    field = descriptor.fields_by_number.get(1) if descriptor is not None else None
    if (
        field is not None
        and field.message_type is not None
        and field.message_type.full_name == _APP_ERROR
    ):
        name = field.name
    _app_error_fields[cls] = name
    return name


def raise_for_app_error(response: object) -> None:
    """Raises the `PluginAPIError` of the AppError in field 1 of `response`,
    when there is one and it is set."""
    name = _app_error_field(type(response))
    if name is not None and response.HasField(name):  # type: ignore[attr-defined]
        raise error_from_app_error(getattr(response, name))


# --- Calls. ---


class _Settings:
    def __init__(self, timeout: float | None, token: str | None) -> None:
        self.timeout = timeout
        self.metadata: tuple[tuple[str, str], ...] | None = (
            ((TOKEN_HEADER, token),) if token else None
        )

    def deadline(self, timeout: float | None) -> float | None:
        return self.timeout if timeout is None else timeout

    def expires(self, timeout: float | None) -> float | None:
        """When a call made now with `timeout` runs out (monotonic clock)."""
        limit = self.deadline(timeout)
        return None if limit is None else time.monotonic() + limit


class _StreamUnaryCall(Protocol[_Resp_co]):
    """What a `grpc.aio` client-streaming call is to `AsyncCalls`."""

    async def write(self, request: Any) -> None: ...

    async def done_writing(self) -> None: ...

    def cancel(self) -> bool: ...

    def __await__(self) -> Generator[Any, None, _Resp_co]: ...


class Calls:
    """The calls of a blocking client (`PluginAPI`): each carries the token
    (metadata `x-mm-bridge-token`) when one is set and is bounded by the
    call's timeout, or the client's when the call gives none (None: no
    deadline)."""

    def __init__(self, timeout: float | None = DEFAULT_TIMEOUT, token: str | None = None) -> None:
        self._settings = _Settings(timeout, token)

    @property
    def timeout(self) -> float | None:
        """The default timeout of a call, in seconds (None: no deadline)."""
        return self._settings.timeout

    def unary(
        self,
        method: Callable[..., _Resp],
        request: object,
        timeout: float | None,
        name: str,
    ) -> _Resp:
        """Calls the unary RPC `method` (a stub attribute) named `name`
        (for errors) and returns its response, or raises the
        `PluginAPIError` of its AppError or of the failed call."""
        expires = self._settings.expires(timeout)
        try:
            response = method(
                request,
                timeout=self._settings.deadline(timeout),
                metadata=self._settings.metadata,
            )
        except grpc.RpcError as err:
            raise error_from_rpc_error(err, name, expires) from None
        raise_for_app_error(response)
        return response

    def stream_unary(
        self,
        method: Callable[..., _Resp],
        head: _Msg,
        chunk_field: str,
        source: ByteSource,
        timeout: float | None,
        name: str,
    ) -> _Resp:
        """Calls the client-streaming RPC `method`: `head` goes first, with
        the first chunk of `source` in its field `chunk_field`, then one
        message of the same type per further chunk (small pieces of an
        iterable gathered into full chunks), read as gRPC sends (the source
        is never read whole). An empty source sends `head` alone. An
        exception of the source ends the call and is raised as it is."""
        messages = _Recorded(_chunk_messages(head, chunk_field, source))
        expires = self._settings.expires(timeout)
        try:
            response = method(
                messages,
                timeout=self._settings.deadline(timeout),
                metadata=self._settings.metadata,
            )
        except grpc.RpcError as err:
            if messages.error is not None:
                raise messages.error from None
            raise error_from_rpc_error(err, name, expires) from None
        raise_for_app_error(response)
        return response

    def http(
        self,
        method: Callable[..., Any],
        request: HTTPRequest,
        wrap: Callable[..., Any],
        request_field: str,
        response_field: str,
        timeout: float | None,
        name: str,
    ) -> HTTPResponse:
        """Calls the bidirectional HTTP RPC `method` (`PluginHTTP`): sends
        `request` as frames, each wrapped as `wrap(**{request_field: frame})`,
        and returns the response once its head has arrived; its body streams
        the remaining frames (read it, iterate it, close it). The request body
        is sent while the response is read, and no longer once the response
        has ended. The timeout bounds the whole exchange."""
        from ._http import HTTPResponse, _check_head, request_frames

        state = _Recorded(wrap(**{request_field: f}) for f in request_frames(request))
        try:
            call = method(
                state,
                timeout=self._settings.deadline(timeout),
                metadata=self._settings.metadata,
            )
            responses = iter(call)
            head = getattr(next(responses), response_field)
        except grpc.RpcError as err:
            if state.error is not None:
                raise state.error from None
            raise error_from_rpc_error(err, name) from None
        except StopIteration:
            raise _truncated(name) from None
        _check_head(head, name)
        source = _SyncFrames(call, responses, response_field, state, name)
        if head.body_end:
            source.ended()
        return HTTPResponse._streamed(head, source)


class AsyncCalls:
    """The calls of an asyncio client (`AsyncPluginAPI`, a `grpc.aio`
    channel), as `Calls` has them."""

    def __init__(self, timeout: float | None = DEFAULT_TIMEOUT, token: str | None = None) -> None:
        self._settings = _Settings(timeout, token)

    @property
    def timeout(self) -> float | None:
        """The default timeout of a call, in seconds (None: no deadline)."""
        return self._settings.timeout

    async def unary(
        self,
        method: Callable[..., Awaitable[_Resp]],
        request: object,
        timeout: float | None,
        name: str,
    ) -> _Resp:
        """`Calls.unary`, awaited."""
        expires = self._settings.expires(timeout)
        try:
            response = await method(
                request,
                timeout=self._settings.deadline(timeout),
                metadata=self._settings.metadata,
            )
        except grpc.RpcError as err:
            raise error_from_rpc_error(err, name, expires) from None
        raise_for_app_error(response)
        return response

    async def stream_unary(
        self,
        method: Callable[..., _StreamUnaryCall[_Resp]],
        head: _Msg,
        chunk_field: str,
        source: AsyncByteSource,
        timeout: float | None,
        name: str,
    ) -> _Resp:
        """`Calls.stream_unary`, awaited. Each message is written when gRPC
        can take it (flow control), so at most a few chunks are held; a file
        object or other blocking iterable is read in a worker thread."""
        expires = self._settings.expires(timeout)
        call = method(
            timeout=self._settings.deadline(timeout),
            metadata=self._settings.metadata,
        )
        try:
            try:
                async for message in _achunk_messages(head, chunk_field, source):
                    await call.write(message)
                await call.done_writing()
            except (asyncio.InvalidStateError, grpc.RpcError):
                # The call ended before the request did (the server answered
                # early, or failed): the call's own outcome tells which. A
                # write that races with an early answer fails with INTERNAL
                # ("Internal error from Core"); the answer is still there.
                pass
            response = await call
        except grpc.RpcError as err:
            raise error_from_rpc_error(err, name, expires) from None
        except BaseException:
            call.cancel()
            raise
        raise_for_app_error(response)
        return response

    async def http(
        self,
        method: Callable[..., Any],
        request: HTTPRequest,
        wrap: Callable[..., Any],
        request_field: str,
        response_field: str,
        timeout: float | None,
        name: str,
    ) -> HTTPResponse:
        """`Calls.http`, awaited; read the body of the response with
        `aread`, `async for` and `aclose`. The request body is sent by a task
        of its own (a file object or blocking iterable is read in a worker
        thread)."""
        from ._http import HTTPResponse, _check_head

        call: Any = method(
            timeout=self._settings.deadline(timeout),
            metadata=self._settings.metadata,
        )
        source = _AioFrames(call, response_field, name)
        source.sender = asyncio.ensure_future(source.send(request, wrap, request_field))
        try:
            head = await source.head()
            _check_head(head, name)
        except BaseException:
            await source.aclose()
            raise
        return HTTPResponse._streamed(head, source)


def _truncated(name: str) -> PluginAPIError:
    from .errors import UnavailableError

    return UnavailableError(
        f"{name}: the HTTP response stream ended before its end",
        id="plugin.python.http.truncated",
        status_code=502,
        where=name,
    )


class _SyncFrames:
    """The response frames of a blocking `PluginHTTP` call, as the chunk
    source of an `HTTPResponse` body."""

    def __init__(
        self,
        call: Any,
        responses: Iterator[Any],
        field: str,
        requests: _Recorded[Any],
        name: str,
    ) -> None:
        self._call = call
        self._responses = responses
        self._field = field
        self._requests = requests
        self._name = name
        self._end = False
        self._closed = False

    def ended(self) -> None:
        self._end = True
        self._requests.stopped = True  # send no more of the request body

    def next(self) -> bytes | None:
        if self._end:
            return None
        if self._closed:
            raise ValueError("read of a closed HTTP response body")
        try:
            frame: common_pb2.HTTPResponse = getattr(next(self._responses), self._field)
        except grpc.RpcError as err:
            self._end = True
            if self._closed:
                raise ValueError("read of a closed HTTP response body") from None
            if self._requests.error is not None:
                raise self._requests.error from None
            raise error_from_rpc_error(err, self._name) from None
        except StopIteration:
            self._end = True
            raise _truncated(self._name) from None
        if frame.body_end:
            self.ended()
        return frame.body

    async def anext(self) -> bytes | None:
        return await asyncio.get_running_loop().run_in_executor(None, self.next)

    def close(self) -> None:
        if not self._end:
            self._closed = True
            self._requests.stopped = True
            self._call.cancel()

    async def aclose(self) -> None:
        self.close()


class _AioFrames:
    """The response frames of an asyncio `PluginHTTP` call, as the chunk
    source of an `HTTPResponse` body; it owns the task sending the request.

    Responses are read through the call's iterator, not `read()`: a write
    that races with the end of the call (an early response) marks the call
    failed with INTERNAL, after which `read()` refuses the frames already
    received, while the iterator still hands them out."""

    sender: asyncio.Future[None] | None = None

    def __init__(self, call: Any, field: str, name: str) -> None:
        self._call = call
        self._responses: AsyncIterator[Any] = call.__aiter__()
        self._field = field
        self._name = name
        self._end = False
        self._closed = False
        self._failure: BaseException | None = None
        self._loop = asyncio.get_running_loop()

    async def send(self, request: HTTPRequest, wrap: Callable[..., Any], field: str) -> None:
        from ._http import arequest_frames

        try:
            async for frame in arequest_frames(request):
                await self._call.write(wrap(**{field: frame}))
            await self._call.done_writing()
        except (asyncio.InvalidStateError, grpc.RpcError):
            pass  # the call ended: reading tells how
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - reported by the reads
            # The request body failed: end the call, and report this.
            self._failure = exc
            self._call.cancel()

    async def raise_failure(self) -> None:
        if self.sender is not None and not self.sender.done():
            await asyncio.wait({self.sender}, timeout=0.05)
        if self._failure is not None:
            raise self._failure

    async def ended(self) -> None:
        self._end = True
        if self.sender is not None and not self.sender.done():
            self.sender.cancel()

    async def _next_frame(self) -> common_pb2.HTTPResponse:
        try:
            message = await self._responses.__anext__()
        except grpc.RpcError as err:
            self._end = True
            if self._closed:
                raise ValueError("read of a closed HTTP response body") from None
            await self.raise_failure()
            raise error_from_rpc_error(err, self._name) from None
        except StopAsyncIteration:
            self._end = True
            await self.raise_failure()
            raise _truncated(self._name) from None
        frame: common_pb2.HTTPResponse = getattr(message, self._field)
        return frame

    async def head(self) -> common_pb2.HTTPResponse:
        head = await self._next_frame()
        if head.body_end:
            await self.ended()
        return head

    async def anext(self) -> bytes | None:
        if self._end:
            return None
        if self._closed:
            raise ValueError("read of a closed HTTP response body")
        frame = await self._next_frame()
        if frame.body_end:
            await self.ended()
        return frame.body

    def next(self) -> bytes | None:
        return _run_threadsafe(self._loop, self.anext())

    async def aclose(self) -> None:
        if self.sender is not None and not self.sender.done():
            self.sender.cancel()
        if not self._end:
            self._closed = True
            self._call.cancel()

    def close(self) -> None:
        _run_threadsafe(self._loop, self.aclose())


def _run_threadsafe(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, _Resp]) -> _Resp:
    """Runs `coro` on `loop` from another thread and waits for its result."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        raise RuntimeError(
            "a blocking read or write on the event loop would never end: "
            "use the async methods (aread, awrite, async for) there"
        )
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    return future.result()
