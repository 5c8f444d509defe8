"""Calling the plugin's hook handlers: where they run, how long they may take,
and what becomes of what they return or raise.

- A `def` handler runs in a thread pool, so a slow one does not hold up the
  others; an `async def` one runs on the event loop (so does a `def` that
  returns an awaitable: the awaitable is awaited there).
- A handler that outlives the hook timeout ends the call with
  DEADLINE_EXCEEDED, for every unary hook and for `FileWillBeUploaded`: a
  timeout is a failure to answer, not an answer. (A `def` handler's thread
  cannot be stopped; it runs on, and its result is dropped.)
- A handler that raises is logged with its traceback. For a hook whose Go
  result includes an error the exception becomes the response's AppError
  (`HandlerFailed`, see `errors.to_app_error`); any other hook ends with
  status INTERNAL, and the Go side applies its failure answer
  (design/hook-policy.md).
- `ServeHTTP` and `ServeMetrics` have no deadline of their own: like Go's,
  they are bounded by the HTTP request, whose end (the client went away, the
  server's own timeout) cancels the call.

Gates reject with `Reject(reason)`; `FileWillBeUploaded` may also answer a
`FileInfo` or a `FileReplacement`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, TypeAlias, TypeVar

import grpc
import grpc.aio

from ._http import ByteStream, HTTPRequest, ResponseWriter, _Channel, _StreamChunks
from ._transport import aiter_chunks, iter_chunks
from .errors import to_app_error

if TYPE_CHECKING:
    from .pb.mattermost.plugin.v1 import common_pb2
    from .pb.mattermost.plugin.v1.model_file_pb2 import FileInfo

__all__ = [
    "Dispatcher",
    "FileReplacement",
    "HandlerFailed",
    "Reject",
    "UploadStream",
    "file_will_be_uploaded",
    "serve_http",
]

_R = TypeVar("_R")

HOOK_THREADS = 64
"""The threads of the default pool of `def` handlers (started as needed)."""


@dataclass(frozen=True)
class Reject:
    """A gate's answer that rejects the action, with the reason the server
    reports (it must not be empty)."""

    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason:
            raise ValueError("Reject needs a non-empty reason")


Content: TypeAlias = (
    bytes | bytearray | memoryview | BinaryIO | Iterable[bytes] | AsyncIterable[bytes]
)
"""Replacement content: bytes, a binary file object, or an iterable (or async
iterable) of byte chunks."""


@dataclass(frozen=True)
class FileReplacement:
    """`FileWillBeUploaded`'s answer that replaces the metadata (`info`),
    the content (`content`), or both. The content is streamed to the server
    as it is read; it may be a generator over the upload itself. Empty
    content keeps the original, as in Go (no output means no change)."""

    info: FileInfo | None = None
    content: Content | None = None


class HandlerFailed(Exception):
    """A handler of a hook with an error result raised: `error` is the
    AppError the response carries."""

    def __init__(self, error: common_pb2.AppError) -> None:
        super().__init__(error.message)
        self.error = error


class UploadStream(ByteStream):
    """The content of the file `FileWillBeUploaded` reviews, read as it
    arrives: `read(n)` / iteration from a `def` handler, `await aread(n)` /
    `async for` from an `async def` one. It can be read until the hook's
    answer has been sent (a replacement content may be a generator over it)."""


def _is_async(handler: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - callable(handler) holds
    return call is not None and inspect.iscoroutinefunction(call)


class Dispatcher:
    """Runs the plugin's handlers: `def` ones in `executor` (a pool of
    `HOOK_THREADS` threads by default), `async def` ones on the loop, every
    unary hook bounded by `timeout` seconds (None: no bound), failures logged
    on `logger`."""

    def __init__(
        self,
        timeout: float | None,
        executor: concurrent.futures.Executor | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.timeout = timeout if timeout is None or timeout > 0 else None
        self._own_executor = executor is None
        self._executor = executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=HOOK_THREADS, thread_name_prefix="mattermost-plugin-hook"
        )
        self.logger = logger or logging.getLogger("mattermost_plugin")

    def shutdown(self) -> None:
        """Releases the default pool (threads still running finish)."""
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, handler: Callable[..., Any], *args: Any) -> Any:
        """Runs `handler(*args)` where it belongs and returns its result,
        awaiting it when it is awaitable; no timeout, no error policy."""
        if _is_async(handler):
            result = handler(*args)
        else:
            loop = asyncio.get_running_loop()
            call = functools.partial(contextvars.copy_context().run, handler, *args)
            result = await loop.run_in_executor(self._executor, call)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def _bounded(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        hook: str,
        handler: Callable[..., Any],
        args: tuple[Any, ...],
        timeout: float | None,
    ) -> Any:
        """Runs the handler; aborts the call with DEADLINE_EXCEEDED when it
        takes longer than `timeout` (what is left of the hook timeout). Its
        exception propagates."""
        task = await _within(self.run(handler, *args), timeout)
        if task is None:
            self.logger.error(
                "%s did not answer within the hook timeout of %g s; the call ends with"
                " DEADLINE_EXCEEDED",
                hook,
                self.timeout,
                extra={"hook": hook},
            )
            await context.abort(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"{hook}: the plugin did not answer within {self.timeout:g} s",
            )
        return task.result()

    async def call(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        hook: str,
        handler: Callable[..., Any],
        *args: Any,
        in_band_errors: bool,
    ) -> Any:
        """Calls the handler of a unary hook with `args` and returns its
        result. Timeout: the call is aborted with DEADLINE_EXCEEDED. The
        handler raised: logged, then `HandlerFailed` when `in_band_errors`
        (the hook reports errors in its response), else the call is aborted
        with INTERNAL."""
        try:
            return await self._bounded(context, hook, handler, args, self.timeout)
        except (asyncio.CancelledError, HandlerFailed):
            raise
        except Exception as exc:
            if _is_abort(exc):
                raise
            await self._failed(context, hook, exc, in_band_errors)

    async def _failed(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        hook: str,
        exc: BaseException,
        in_band_errors: bool,
    ) -> NoReturn:
        self.logger.error("%s failed: %s", hook, exc, exc_info=exc, extra={"hook": hook})
        if in_band_errors:
            raise HandlerFailed(to_app_error(exc, hook)) from exc
        await context.abort(grpc.StatusCode.INTERNAL, f"{hook}: {exc or type(exc).__name__}")


async def _within(awaitable: Awaitable[_R], timeout: float | None) -> asyncio.Future[_R] | None:
    """Runs `awaitable` as a task for at most `timeout` seconds: the finished
    task (its result or exception inside), or None when time ran out (the
    task is then cancelled). Cancelling the caller cancels the task."""
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except BaseException:
        task.cancel()
        raise
    if not done:
        task.cancel()
        return None
    return task


def _is_abort(exc: BaseException) -> bool:
    """Whether `exc` is how grpc.aio ends a call that was aborted."""
    return isinstance(exc, grpc.aio.AbortError)


# --- Streaming hooks. ---


async def serve_http(
    dispatcher: Dispatcher,
    hook: str,
    handler: Callable[..., Any],
    request_iterator: AsyncIterable[Any],
    context: grpc.aio.ServicerContext[Any, Any],
    *,
    context_field: str,
    request_field: str,
    response_type: Callable[..., _R],
    response_field: str,
) -> AsyncIterator[_R]:
    """Serves one `ServeHTTP`/`ServeMetrics` call: builds the request from
    the first frame (field `request_field`, the plugin context in
    `context_field`), calls `handler(plugin_context, writer, request)` (Go's
    order), and yields `response_type(**{response_field: frame})` as the
    handler writes. The request body streams in as the handler reads it;
    the response streams out as it is written. After the handler returns, a
    response never started is a 200 without body; then the end marker.

    A handler that raises ends the call with INTERNAL (the Go side answers
    502, or aborts a response already started). There is no timeout: the
    call lasts as long as the HTTP request, and its cancellation (the client
    went away) cancels an `async def` handler and makes the writes and reads
    of a `def` one raise `ConnectionResetError`.
    """
    requests = request_iterator.__aiter__()
    try:
        first = await requests.__anext__()
    except StopAsyncIteration:
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, f"{hook}: the request stream has no head"
        )
    plugin_context = getattr(first, context_field)
    head: common_pb2.HTTPRequest = getattr(first, request_field)

    def extract(message: Any) -> tuple[bytes, bool]:
        frame: common_pb2.HTTPRequest = getattr(message, request_field)
        return frame.body, frame.body_end

    body: _StreamChunks | None = None
    if not head.body_end:
        body = _StreamChunks(requests, extract, end_at_eof=False, what="HTTP request body")
    request = HTTPRequest._received(head, body)
    channel = _Channel()
    writer = ResponseWriter(channel, is_head=request.method == "HEAD")
    failure: list[BaseException] = []

    async def run() -> None:
        try:
            await dispatcher.run(handler, plugin_context, writer, request)
            await writer._afinish()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - ends the call with INTERNAL
            failure.append(exc)
        finally:
            if body is not None:
                body.close()
            await channel.finish(discard=bool(failure))

    task = asyncio.ensure_future(run())
    try:
        while True:
            frame = await channel.get()
            if frame is None:
                break
            yield response_type(**{response_field: frame})
        await task
    finally:
        if not task.done():
            task.cancel()
            if body is not None:
                body.close("the HTTP client went away")
            await channel.fail("the HTTP client went away")
    if failure:
        exc = failure[0]
        if isinstance(exc, ConnectionResetError):
            dispatcher.logger.debug("%s: %s", hook, exc)
        else:
            dispatcher.logger.error("%s failed: %s", hook, exc, exc_info=exc, extra={"hook": hook})
        await context.abort(grpc.StatusCode.INTERNAL, f"{hook}: {exc or type(exc).__name__}")


async def file_will_be_uploaded(
    dispatcher: Dispatcher,
    hook: str,
    handler: Callable[..., Any],
    request_iterator: AsyncIterable[Any],
    context: grpc.aio.ServicerContext[Any, Any],
    *,
    context_field: str,
    info_field: str,
    file_field: str,
    response_type: Callable[..., _R],
    output_field: str,
    info_result_field: str,
    reject_field: str,
) -> AsyncIterator[_R]:
    """Serves one `FileWillBeUploaded` call. The first request carries the
    plugin context (`context_field`) and the file info (`info_field`); the
    content arrives in `file_field` chunks until the server half-closes. The
    handler gets `(plugin_context, info, upload)` and answers:

    - None: keep everything (a last frame with no results);
    - `Reject(reason)`: reject (`reject_field`);
    - a `FileInfo`: replace the metadata (`info_result_field`);
    - `FileReplacement(info, content)`: the content streamed in `output_field`
      frames of at most 64 KiB as it is read, then the last frame with the
      info, if any.

    The whole exchange, output included, is bounded by the dispatcher's
    timeout (DEADLINE_EXCEEDED). A handler that raises, or an answer of
    another type, ends the call with INTERNAL; the Go side then keeps the
    upload as it was and discards the output.
    """
    loop = asyncio.get_running_loop()
    deadline = None if dispatcher.timeout is None else loop.time() + dispatcher.timeout
    requests = request_iterator.__aiter__()
    try:
        first = await requests.__anext__()
    except StopAsyncIteration:
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, f"{hook}: the request stream has no first frame"
        )
    plugin_context = getattr(first, context_field)
    info = getattr(first, info_field)

    def extract(message: Any) -> tuple[bytes, bool]:
        return getattr(message, file_field), False

    chunks = _StreamChunks(requests, extract, end_at_eof=True, what="upload")
    upload = UploadStream(chunks, getattr(first, file_field))
    info_type = _field_type(response_type, info_result_field)

    def remaining() -> float | None:
        return None if deadline is None else max(deadline - loop.time(), 0.0)

    async def timed_out() -> NoReturn:
        dispatcher.logger.error(
            "%s did not answer within %g s; the call ends with DEADLINE_EXCEEDED",
            hook,
            dispatcher.timeout,
            extra={"hook": hook},
        )
        await context.abort(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            f"{hook}: the plugin did not answer within {dispatcher.timeout:g} s",
        )

    try:
        try:
            result = await dispatcher._bounded(
                context, hook, handler, (plugin_context, info, upload), remaining()
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if _is_abort(exc):
                raise
            await dispatcher._failed(context, hook, exc, in_band_errors=False)
        if result is None:
            yield response_type()
        elif isinstance(result, Reject):
            yield response_type(**{reject_field: result.reason})
        elif info_type is not None and _is_message(result, info_type):
            yield response_type(**{info_result_field: result})
        elif isinstance(result, FileReplacement):
            if result.content is not None:
                output = aiter_chunks(_read_in(dispatcher, result.content), coalesce=True)
                while True:
                    next_chunk = await _within(output.__anext__(), remaining())
                    if next_chunk is None:
                        await timed_out()
                    try:
                        chunk = next_chunk.result()
                    except StopAsyncIteration:
                        break
                    except Exception as exc:  # noqa: BLE001 - ends the call with INTERNAL
                        await dispatcher._failed(context, hook, exc, in_band_errors=False)
                    yield response_type(**{output_field: chunk})
                    if deadline is not None and loop.time() > deadline:
                        await timed_out()
            try:
                last = response_type(**{info_result_field: result.info} if result.info else {})
            except (TypeError, ValueError) as exc:  # not a FileInfo
                await dispatcher._failed(context, hook, exc, in_band_errors=False)
            yield last
        else:
            wrong = TypeError(
                f"{hook} returned {type(result).__name__}: expected None, Reject, "
                "FileInfo or FileReplacement"
            )
            await dispatcher._failed(context, hook, wrong, in_band_errors=False)
    finally:
        chunks.close()


def _read_in(dispatcher: Dispatcher, content: Content) -> Any:
    """The content as `aiter_chunks` takes it; a blocking source is read in
    the dispatcher's threads."""
    if isinstance(content, (bytes, bytearray, memoryview, AsyncIterable)):
        return content
    return _ThreadedChunks(dispatcher, content)


class _ThreadedChunks:
    """An async iterable over the chunks of a blocking source, each read in
    the dispatcher's threads."""

    def __init__(self, dispatcher: Dispatcher, source: BinaryIO | Iterable[bytes]) -> None:
        self._dispatcher = dispatcher
        self._chunks = iter_chunks(source, coalesce=True)

    def __aiter__(self) -> _ThreadedChunks:
        return self

    async def __anext__(self) -> bytes:
        chunk: bytes | None = await self._dispatcher.run(_next_chunk, self._chunks)
        if chunk is None:
            raise StopAsyncIteration
        return chunk


def _next_chunk(chunks: Any) -> bytes | None:
    return next(chunks, None)


def _field_type(message_type: Any, field: str) -> Any:
    """The descriptor of the message type of `field` of `message_type`."""
    descriptor = getattr(message_type, "DESCRIPTOR", None)
    if descriptor is None:
        return None
    f = descriptor.fields_by_name.get(field)
    return None if f is None else f.message_type


def _is_message(value: object, descriptor: Any) -> bool:
    d = getattr(value, "DESCRIPTOR", None)
    return d is not None and getattr(d, "full_name", None) == descriptor.full_name
