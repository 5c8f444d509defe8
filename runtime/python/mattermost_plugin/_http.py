"""HTTP over the bridge's streams: headers, requests, responses and the
response writer of the `ServeHTTP` and `ServeMetrics` hooks.

An HTTP request or response crosses as a sequence of frames (`HTTPRequest`
and `HTTPResponse` in common.proto): the head in the first frame, then body
chunks of at most 64 KiB, and an end marker. Nothing here holds a whole body:
bodies are read as the frames arrive and written as they are produced, with
backpressure, so memory stays bounded whatever the size of the body.

Bodies (of `HTTPRequest`, `HTTPResponse` and uploads) are read the same way
from a `def` handler in a worker thread (`read`, `for chunk in body`) and
from an `async def` one on the event loop (`await aread()`,
`async for chunk in body`). A body is not meant to be read by two readers
at once.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias
from urllib.parse import urlsplit

from ._transport import CHUNK_SIZE, AsyncByteSource, aiter_chunks, iter_chunks
from .errors import UnavailableError
from .pb.mattermost.plugin.v1 import common_pb2

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "ByteStream",
    "HTTPRequest",
    "HTTPResponse",
    "Headers",
    "ResponseWriter",
    "canonical_header_key",
]

# --- Headers. ---

_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def canonical_header_key(name: str) -> str:
    """The canonical form of a header name, as Go's
    `http.CanonicalHeaderKey` has it: the first letter and every letter after
    a hyphen upper case, the others lower case ("content-type" ->
    "Content-Type"). A name with a space or a character not allowed in a
    header name is returned unchanged."""
    if not name or any(c not in _TOKEN_CHARS for c in name):
        return name
    upper = True
    out = []
    for c in name:
        out.append(c.upper() if upper else c.lower())
        upper = c == "-"
    return "".join(out)


HeaderValues: TypeAlias = "str | Sequence[str]"
"""The value of a header given in a mapping: one string, or all of them."""
HeadersLike: TypeAlias = "Headers | Mapping[str, HeaderValues] | Iterable[tuple[str, str]]"
"""What headers are built from: headers, a mapping, or (name, value) pairs."""


class Headers:
    """HTTP headers: names case-insensitive (kept in Go's canonical form),
    each with every value it was given, in order. Repeated names are never
    joined or cut down to one value.

    Build them from a mapping (a value may be a string or a list of strings)
    or from (name, value) pairs. `headers["X"]` and `get` give the first
    value, `get_all` every value; `items()` lists every (name, value) pair.
    """

    def __init__(self, headers: HeadersLike | None = None) -> None:
        self._values: dict[str, list[str]] = {}
        if headers is None:
            return
        if isinstance(headers, Headers):
            for name, values in headers._values.items():
                self._values[name] = list(values)
        elif isinstance(headers, Mapping):
            for name, value in headers.items():
                if isinstance(value, str):
                    self.add(name, value)
                else:
                    for v in value:
                        self.add(name, v)
        else:
            for name, value in headers:
                self.add(name, value)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`, or `default`."""
        values = self._values.get(canonical_header_key(name))
        return values[0] if values else default

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in order (empty when it is absent)."""
        return list(self._values.get(canonical_header_key(name), ()))

    def add(self, name: str, value: str) -> None:
        """Adds a value to `name`, after those it has."""
        self._values.setdefault(canonical_header_key(name), []).append(str(value))

    def set(self, name: str, value: str | Sequence[str]) -> None:
        """Replaces every value of `name` with `value` (a list: those)."""
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        key = canonical_header_key(name)
        if values:
            self._values[key] = values
        else:
            self._values.pop(key, None)

    def delete(self, name: str) -> None:
        """Removes `name` and all its values."""
        self._values.pop(canonical_header_key(name), None)

    def items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, a name repeated for each of its values."""
        return [(name, v) for name, values in self._values.items() for v in values]

    def keys(self) -> list[str]:
        """The names, canonical."""
        return list(self._values)

    def copy(self) -> Headers:
        """An independent copy."""
        return Headers(self)

    def __getitem__(self, name: str) -> str:
        values = self._values.get(canonical_header_key(name))
        if not values:
            raise KeyError(name)
        return values[0]

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        key = canonical_header_key(name)
        if key not in self._values:
            raise KeyError(name)
        del self._values[key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonical_header_key(name) in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._values == other._values
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"

    def to_proto(self) -> list[common_pb2.HTTPHeader]:
        """The headers as frames carry them: one entry per name."""
        return [
            common_pb2.HTTPHeader(name=name, values=values)
            for name, values in self._values.items()
            if values
        ]

    @classmethod
    def from_proto(cls, headers: Iterable[common_pb2.HTTPHeader]) -> Headers:
        """Headers from frames: names canonicalized, the values of a repeated
        name appended in order."""
        result = cls()
        for header in headers:
            if header.values:
                result._values.setdefault(canonical_header_key(header.name), []).extend(
                    header.values
                )
        return result


# --- Bodies. ---


class _ChunkSource(Protocol):
    """Where a body's chunks come from. `next` blocks (worker threads);
    `anext` is awaited (the event loop). Both return None at the end."""

    def next(self) -> bytes | None: ...

    async def anext(self) -> bytes | None: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


class _SourceChunks:
    """The chunks of a `ByteSource` the plugin gave (a body it sends)."""

    def __init__(self, source: AsyncByteSource) -> None:
        self._source = source
        self._chunks: Iterator[bytes] | None = None
        self._achunks: AsyncIterator[bytes] | None = None

    def next(self) -> bytes | None:
        if self._achunks is not None:
            raise RuntimeError("a body started with the async methods is read with them")
        if self._chunks is None:
            self._chunks = iter_chunks(self._source)  # type: ignore[arg-type]
        return next(self._chunks, None)

    async def anext(self) -> bytes | None:
        if self._chunks is not None:
            # Started by blocking reads: go on the same way, off the loop.
            return await asyncio.get_running_loop().run_in_executor(None, self.next)
        if self._achunks is None:
            self._achunks = aiter_chunks(self._source)
        try:
            return await self._achunks.__anext__()
        except StopAsyncIteration:
            return None

    def close(self) -> None:
        if self._chunks is not None:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()

    async def aclose(self) -> None:
        self.close()
        if self._achunks is not None:
            aclose = getattr(self._achunks, "aclose", None)
            if aclose is not None:
                await aclose()


class _StreamChunks:
    """The chunks carried by the messages of a request stream a servicer
    receives (a ServeHTTP request body, an upload). Reads from a worker
    thread run on the event loop, which owns the stream."""

    def __init__(
        self,
        messages: AsyncIterator[Any],
        extract: Callable[[Any], tuple[bytes, bool]],
        *,
        end_at_eof: bool,
        what: str,
    ) -> None:
        self._messages = messages
        self._extract = extract
        self._end_at_eof = end_at_eof
        self._what = what
        self._end = False
        self._closed = False
        self._closed_reason: str | None = None
        self._loop = asyncio.get_running_loop()
        self._pending: set[concurrent.futures.Future[bytes | None]] = set()
        self._lock = threading.Lock()

    def ended(self) -> None:
        self._end = True

    async def anext(self) -> bytes | None:
        if self._end:
            return None
        if self._closed:
            if self._closed_reason is not None:
                raise ConnectionResetError(self._closed_reason)
            raise ValueError(f"read of the {self._what} after the handler returned")
        try:
            message = await self._messages.__anext__()
        except StopAsyncIteration:
            self._end = True
            if self._end_at_eof:
                return None
            raise EOFError(f"the {self._what} ended before its end") from None
        except Exception as exc:
            self._end = True
            raise ConnectionResetError(f"the {self._what} failed: {exc}") from exc
        chunk, end = self._extract(message)
        if end:
            self._end = True
        return chunk

    def next(self) -> bytes | None:
        _check_off_loop(self._loop)
        future = asyncio.run_coroutine_threadsafe(self.anext(), self._loop)
        with self._lock:
            if self._closed:
                future.cancel()
            self._pending.add(future)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            reason = self._closed_reason or f"the {self._what} was cancelled"
            raise ConnectionResetError(reason) from None
        finally:
            with self._lock:
                self._pending.discard(future)

    def close(self, reason: str | None = None) -> None:
        """No more reads; cancels those in progress in worker threads. With a
        reason, later reads raise ConnectionResetError(reason)."""
        with self._lock:
            self._closed = True
            if reason is not None and self._closed_reason is None:
                self._closed_reason = reason
            pending = list(self._pending)
        for future in pending:
            future.cancel()

    async def aclose(self) -> None:
        self.close()


def _check_off_loop(loop: asyncio.AbstractEventLoop) -> None:
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return
    if running is loop:
        raise RuntimeError(
            "a blocking read or write on the event loop would never end: "
            "use the async methods (aread, awrite, aflush, async for) in async handlers"
        )


class ByteStream:
    """A body read incrementally: `read(n)` and iteration over its chunks
    (blocking, for `def` code), `aread(n)` and `async for` (for `async def`
    code), `close()`/`aclose()` to give up the rest. Also usable as a binary
    file object (`read`, `readable`) and as a (async) context manager."""

    def __init__(self, source: _ChunkSource | None = None, first: bytes = b"") -> None:
        self._source = source
        self._buf = bytes(first)
        self._pos = 0
        self._eof = source is None
        self._closed = False

    # Chunk supply.

    def _take_buffer(self) -> bytes:
        data = self._buf[self._pos :] if self._pos else self._buf
        self._buf, self._pos = b"", 0
        return data

    def _fill(self) -> bool:
        """Makes the buffer non-empty; False at the end."""
        if self._closed:
            raise ValueError("read of a closed body")
        while self._pos >= len(self._buf):
            if self._eof or self._source is None:
                self._eof = True
                return False
            chunk = self._source.next()
            if chunk is None:
                self._eof = True
                return False
            self._buf, self._pos = chunk, 0
        return True

    async def _afill(self) -> bool:
        if self._closed:
            raise ValueError("read of a closed body")
        while self._pos >= len(self._buf):
            if self._eof or self._source is None:
                self._eof = True
                return False
            chunk = await self._source.anext()
            if chunk is None:
                self._eof = True
                return False
            self._buf, self._pos = chunk, 0
        return True

    def _consume(self, size: int) -> bytes:
        end = min(self._pos + size, len(self._buf))
        data = self._buf[self._pos : end]
        self._pos = end
        return data

    # Blocking reads.

    def read(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes (fewer only at the end); with no size (or a
        negative one) everything that is left. b"" at the end."""
        parts = []
        if size is None or size < 0:
            while self._fill():
                parts.append(self._take_buffer())
            return b"".join(parts)
        left = size
        while left > 0 and self._fill():
            data = self._consume(left)
            parts.append(data)
            left -= len(data)
        return b"".join(parts)

    def readable(self) -> bool:
        """True: a body is a readable binary stream."""
        return True

    def __iter__(self) -> Iterator[bytes]:
        """The remaining chunks, as they arrive."""
        while self._fill():
            yield self._take_buffer()

    def close(self) -> None:
        """Gives up the rest of the body."""
        if not self._closed:
            self._closed = True
            self._buf, self._pos = b"", 0
            if self._source is not None and not self._eof:
                self._source.close()

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Async reads.

    async def aread(self, size: int | None = -1) -> bytes:
        """`read`, awaited."""
        parts = []
        if size is None or size < 0:
            while await self._afill():
                parts.append(self._take_buffer())
            return b"".join(parts)
        left = size
        while left > 0 and await self._afill():
            data = self._consume(left)
            parts.append(data)
            left -= len(data)
        return b"".join(parts)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """The remaining chunks, as they arrive."""
        while await self._afill():
            yield self._take_buffer()

    async def aclose(self) -> None:
        """`close`, awaited."""
        if not self._closed:
            self._closed = True
            self._buf, self._pos = b"", 0
            if self._source is not None and not self._eof:
                await self._source.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# --- Requests. ---


class HTTPRequest(ByteStream):
    """An HTTP request: the one a `ServeHTTP`/`ServeMetrics` handler serves
    (its body arrives as the handler reads it), or one a plugin sends with
    `PluginHTTP` (give `body` as bytes, a binary file object or an iterable of
    chunks; it is sent as it is read).

    The body is read from the request itself: `request.read()`,
    `for chunk in request`, `await request.aread()`, `async for chunk in
    request`.
    """

    method: str
    """The method, e.g. "GET"."""
    url: str
    """The request target as received: path and query."""
    headers: Headers
    """Every header, with every value."""
    host: str
    """The Host header value."""
    remote_addr: str
    """The client's network address (received requests)."""
    request_uri: str
    """The unmodified request target."""
    proto: str
    """The protocol, e.g. "HTTP/1.1"."""
    content_length: int
    """The declared body length; -1 when unknown."""

    def __init__(
        self,
        method: str = "GET",
        url: str = "/",
        headers: HeadersLike | None = None,
        body: AsyncByteSource | None = None,
        *,
        host: str = "",
        remote_addr: str = "",
        request_uri: str = "",
        proto: str = "HTTP/1.1",
        content_length: int | None = None,
    ) -> None:
        """A request to send (or to hand to a handler in a test). A full URL
        (`http://host/path?q`) gives the host when `host` is empty; `url`
        keeps the path and query."""
        if isinstance(body, (bytes, bytearray, memoryview)):
            first = bytes(body)
            super().__init__(None, first)
            length = len(first)
        elif body is None:
            super().__init__(None)
            length = 0
        else:
            super().__init__(_SourceChunks(body))
            length = -1
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            host = host or parts.netloc
            url = parts.path or "/"
            if parts.query:
                url = f"{url}?{parts.query}"
        self.method = method.upper() if method else "GET"
        self.url = url or "/"
        self.headers = Headers(headers)
        self.host = host
        self.remote_addr = remote_addr
        self.request_uri = request_uri or self.url
        self.proto = proto or "HTTP/1.1"
        self.content_length = length if content_length is None else content_length

    @property
    def path(self) -> str:
        """The path of the URL."""
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        """The query of the URL, without "?" (see urllib.parse.parse_qs)."""
        return urlsplit(self.url).query

    def __repr__(self) -> str:
        return f"HTTPRequest({self.method} {self.url})"

    @classmethod
    def _received(cls, head: common_pb2.HTTPRequest, source: _ChunkSource | None) -> HTTPRequest:
        """The request of a head frame; `source` gives the later chunks."""
        request = cls.__new__(cls)
        ByteStream.__init__(request, source, head.body)
        request.method = head.method or "GET"
        request.url = head.url or "/"
        request.headers = Headers.from_proto(head.headers)
        request.host = head.host
        request.remote_addr = head.remote_addr
        request.request_uri = head.request_uri or request.url
        request.proto = head.proto or "HTTP/1.1"
        request.content_length = head.content_length
        return request

    def _head(self) -> common_pb2.HTTPRequest:
        return common_pb2.HTTPRequest(
            method=self.method,
            url=self.url,
            proto=self.proto,
            headers=self.headers.to_proto(),
            host=self.host,
            remote_addr=self.remote_addr,
            request_uri=self.request_uri,
            content_length=self.content_length,
        )


def request_frames(request: HTTPRequest) -> Iterator[common_pb2.HTTPRequest]:
    """The frames of `request`: the head (with the whole body and the end
    marker when the body is in memory and fits a chunk), then one frame per
    chunk of the body as it is read, then the end marker."""
    head = request._head()
    if request._source is None:
        yield from _memory_frames(head, request.read())
        return
    yield head
    for chunk in request:
        yield from _body_frames(chunk)
    yield common_pb2.HTTPRequest(body_end=True)


def _memory_frames(head: common_pb2.HTTPRequest, body: bytes) -> Iterator[common_pb2.HTTPRequest]:
    if len(body) <= CHUNK_SIZE:
        head.body = body
        head.body_end = True
        yield head
        return
    yield head
    yield from _body_frames(body)
    yield common_pb2.HTTPRequest(body_end=True)


def _body_frames(chunk: bytes) -> Iterator[common_pb2.HTTPRequest]:
    for start in range(0, len(chunk), CHUNK_SIZE):
        yield common_pb2.HTTPRequest(body=chunk[start : start + CHUNK_SIZE])


async def arequest_frames(request: HTTPRequest) -> AsyncIterator[common_pb2.HTTPRequest]:
    """`request_frames` for the event loop."""
    head = request._head()
    if request._source is None:
        for frame in _memory_frames(head, request.read()):
            yield frame
        return
    yield head
    async for chunk in request:
        for frame in _body_frames(chunk):
            yield frame
    yield common_pb2.HTTPRequest(body_end=True)


# --- Responses. ---


class HTTPResponse(ByteStream):
    """An HTTP response, as `PluginHTTP` returns it: the status and headers
    have arrived, the body streams as it is read (`read`, iteration,
    `aread`, `async for`). Close it (or use it as a context manager) when not
    reading the body to its end: that ends the exchange."""

    status_code: int
    """The status code."""
    headers: Headers
    """Every header, with every value."""

    def __init__(
        self,
        status_code: int = 200,
        headers: HeadersLike | None = None,
        body: AsyncByteSource | None = None,
    ) -> None:
        """A complete response (for tests and fakes)."""
        if isinstance(body, (bytes, bytearray, memoryview)):
            super().__init__(None, bytes(body))
        elif body is None:
            super().__init__(None)
        else:
            super().__init__(_SourceChunks(body))
        self.status_code = status_code
        self.headers = Headers(headers)

    def __repr__(self) -> str:
        return f"HTTPResponse({self.status_code})"

    @classmethod
    def _streamed(cls, head: common_pb2.HTTPResponse, source: _ChunkSource) -> HTTPResponse:
        response = cls.__new__(cls)
        ByteStream.__init__(response, source, head.body)
        response.status_code = head.status_code
        response.headers = Headers.from_proto(head.headers)
        return response


def _check_head(head: common_pb2.HTTPResponse, name: str) -> None:
    """Rejects a response head whose status an HTTP server cannot send."""
    if not 200 <= head.status_code <= 999:
        raise UnavailableError(
            f"{name}: HTTP response head with invalid status code {head.status_code}",
            id="plugin.python.http.invalid_status",
            status_code=502,
            where=name,
        )


# --- Writing responses. ---


class _Channel:
    """A bounded queue of frames from a writer (a worker thread or a task)
    to the stream that sends them: `put` waits while `limit` frames are
    waiting, so a writer goes no faster than the stream. Lives on the event
    loop; `put_blocking` is `put` for worker threads."""

    def __init__(self, limit: int = 4) -> None:
        self._items: collections.deque[common_pb2.HTTPResponse] = collections.deque()
        self._limit = limit
        self._cond = asyncio.Condition()
        self.loop = asyncio.get_running_loop()
        self._finished = False
        self._failure: str | None = None

    async def put(self, item: common_pb2.HTTPResponse) -> None:
        async with self._cond:
            while len(self._items) >= self._limit and self._failure is None:
                await self._cond.wait()
            if self._failure is not None:
                raise ConnectionResetError(self._failure)
            self._items.append(item)
            self._cond.notify_all()

    def put_blocking(self, item: common_pb2.HTTPResponse) -> None:
        _check_off_loop(self.loop)
        future = asyncio.run_coroutine_threadsafe(self.put(item), self.loop)
        try:
            future.result()
        except concurrent.futures.CancelledError:
            raise ConnectionResetError("the HTTP response stream was cancelled") from None

    async def get(self) -> common_pb2.HTTPResponse | None:
        """The next frame; None once the writer finished and all were taken,
        or the channel failed."""
        async with self._cond:
            while not self._items and not self._finished and self._failure is None:
                await self._cond.wait()
            if self._failure is not None or not self._items:
                return None
            item = self._items.popleft()
            self._cond.notify_all()
            return item

    async def finish(self, discard: bool = False) -> None:
        """No more frames; `discard` drops those still waiting."""
        async with self._cond:
            self._finished = True
            if discard:
                self._items.clear()
            self._cond.notify_all()

    async def fail(self, reason: str) -> None:
        """The stream is gone: writers waiting or to come raise
        ConnectionResetError(reason)."""
        async with self._cond:
            if self._failure is None:
                self._failure = reason
            self._items.clear()
            self._cond.notify_all()


class ResponseWriter:
    """What a `ServeHTTP`/`ServeMetrics` handler writes its response with,
    as Go's `http.ResponseWriter`:

    - `headers`: set them before the head goes out; changes after
      `write_header` (or the first write) are not sent.
    - `write_header(status)`: the status; without it, the first write or
      flush means 200, and so does a handler that returns without writing.
    - `write(data)` (from a `def` handler) / `await awrite(data)` (from an
      `async def` one): body bytes. Writes are gathered up to 64 KiB and sent
      in frames of at most 64 KiB; a writer that is ahead of the client
      waits (backpressure), so memory stays bounded.
    - `flush()` / `await aflush()`: sends what was written so far, and has
      the server flush it to the client.

    The head goes out with the first frame: the first flush, the first full
    64 KiB of body, or the end of the handler. A write after the client went
    away raises `ConnectionResetError`. For a HEAD request the body is
    discarded; for a status without a body (1xx, 204, 304) a write raises
    `ValueError`.
    """

    headers: Headers
    """The response headers."""

    def __init__(self, channel: _Channel, *, is_head: bool = False) -> None:
        self.headers = Headers()
        self._channel = channel
        self._is_head = is_head
        self._lock = threading.Lock()
        self._status = 0
        self._snapshot: Headers | None = None
        self._no_body = False
        self._head_sent = False
        self._buf = bytearray()
        self._done = False

    @property
    def status_code(self) -> int:
        """The status written, 0 until then."""
        return self._status

    @property
    def head_sent(self) -> bool:
        """Whether the status and headers have gone out."""
        return self._head_sent

    def write_header(self, status_code: int) -> None:
        """Sets the status (100-999). Informational statuses (1xx but 101)
        are not relayed; a second call is ignored, as in Go."""
        with self._lock:
            self._write_header_locked(status_code)

    def _write_header_locked(self, code: int) -> None:
        if self._done or self._status:
            return
        if not 100 <= code <= 999:
            raise ValueError(f"invalid HTTP status code {code}")
        if code < 200 and code != 101:
            return
        self._status = code
        self._snapshot = self.headers.copy()
        self._no_body = code < 200 or code in (204, 304)

    def _frame(
        self, body: bytes = b"", flush: bool = False, end: bool = False
    ) -> common_pb2.HTTPResponse:
        frame = common_pb2.HTTPResponse(body=body, flush=flush, body_end=end)
        if not self._head_sent:
            self._head_sent = True
            frame.status_code = self._status
            if self._snapshot is not None:
                frame.headers.extend(self._snapshot.to_proto())
        return frame

    def _take_write(self, data: bytes | bytearray | memoryview) -> list[common_pb2.HTTPResponse]:
        with self._lock:
            if self._done:
                raise RuntimeError("write to the ResponseWriter after the handler returned")
            if not self._status:
                self._write_header_locked(200)
            if self._no_body:
                raise ValueError(f"HTTP status {self._status} does not allow a body")
            if self._is_head:
                return []
            frames = []
            view = memoryview(data).cast("B")
            while len(view):
                if not self._buf and len(view) >= CHUNK_SIZE:
                    frames.append(self._frame(bytes(view[:CHUNK_SIZE])))
                    view = view[CHUNK_SIZE:]
                    continue
                n = min(CHUNK_SIZE - len(self._buf), len(view))
                self._buf += view[:n]
                view = view[n:]
                if len(self._buf) == CHUNK_SIZE:
                    frames.append(self._frame(bytes(self._buf)))
                    self._buf.clear()
            return frames

    def _take_flush(self) -> common_pb2.HTTPResponse:
        with self._lock:
            if self._done:
                raise RuntimeError("flush of the ResponseWriter after the handler returned")
            if not self._status:
                self._write_header_locked(200)
            frame = self._frame(bytes(self._buf), flush=True)
            self._buf.clear()
            return frame

    def _take_finish(self) -> common_pb2.HTTPResponse:
        with self._lock:
            if not self._status:
                self._write_header_locked(200)
            self._done = True
            frame = self._frame(bytes(self._buf), end=True)
            self._buf.clear()
            return frame

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Writes body bytes, waiting while the client is behind. For `def`
        handlers (a worker thread); returns len(data)."""
        _check_off_loop(self._channel.loop)
        for frame in self._take_write(data):
            self._channel.put_blocking(frame)
        return len(data)

    def flush(self) -> None:
        """Sends what was written so far and asks the server to flush it to
        the client. For `def` handlers."""
        _check_off_loop(self._channel.loop)
        self._channel.put_blocking(self._take_flush())

    async def awrite(self, data: bytes | bytearray | memoryview) -> int:
        """`write`, for `async def` handlers."""
        for frame in self._take_write(data):
            await self._channel.put(frame)
        return len(data)

    async def aflush(self) -> None:
        """`flush`, for `async def` handlers."""
        await self._channel.put(self._take_flush())

    async def _afinish(self) -> None:
        """Ends the response once the handler returned."""
        await self._channel.put(self._take_finish())
