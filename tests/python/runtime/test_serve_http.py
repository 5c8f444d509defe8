"""`serve_http` behind a real grpc.aio server, driven the way the Go
`relayHTTP` drives it: request frames in (the body sent while the response
is read), response frames out, checked against the frame protocol."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
import pytest

from helpers import (
    Digest,
    MiB,
    Pattern,
    aio_server,
    method_handler,
    multicallable,
    service,
    traced_peak,
)
from mattermost_plugin._dispatch import Dispatcher, serve_http
from mattermost_plugin._http import HTTPRequest, ResponseWriter
from mattermost_plugin._transport import CHUNK_SIZE, aconnect
from mattermost_plugin.pb.mattermost.plugin.v1 import common_pb2, plugin_hooks_pb2

hooks = plugin_hooks_pb2
PluginContext = common_pb2.PluginContext


class Hook:
    """A ServeHTTP servicer whose handler each test sets."""

    def __init__(self, timeout: float | None = 5.0) -> None:
        self.dispatcher = Dispatcher(timeout)
        self.handler: Callable[..., Any] = lambda c, w, r: None

    async def serve(
        self,
        requests: AsyncIterator[hooks.ServeHTTPRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[hooks.ServeHTTPResponse]:
        frames = serve_http(
            self.dispatcher,
            "ServeHTTP",
            self.handler,
            requests,
            context,
            context_field="context",
            request_field="request",
            response_type=hooks.ServeHTTPResponse,
            response_field="response",
        )
        async for frame in frames:
            yield frame

    def handlers(self) -> list[grpc.GenericRpcHandler[Any, Any]]:
        return [
            service(
                "test.Hooks",
                {
                    "ServeHTTP": method_handler(
                        "stream_stream", self.serve, hooks.ServeHTTPRequest, hooks.ServeHTTPResponse
                    )
                },
            )
        ]


@dataclass
class Result:
    """What the client saw."""

    status: int = 0
    headers: list[tuple[str, list[str]]] = field(default_factory=list)
    body: Digest = field(default_factory=Digest)
    data: bytearray = field(default_factory=bytearray)
    frames: list[common_pb2.HTTPResponse] = field(default_factory=list)
    ended: bool = False
    error: grpc.aio.AioRpcError | None = None
    sent: int = 0


async def exchange(
    call: Any,
    head: common_pb2.HTTPRequest,
    body: Iterable[bytes] = (),
    *,
    end: bool = True,
    keep: bool = True,
) -> Result:
    """Sends the request (head, body chunks, end marker) while reading the
    response, as relayHTTP does; checks the frame protocol."""
    result = Result()

    async def send() -> None:
        try:
            first = hooks.ServeHTTPRequest(
                context=PluginContext(request_id="req-1", user_agent="test"), request=head
            )
            await call.write(first)
            if head.body_end:
                return
            for chunk in body:
                await call.write(hooks.ServeHTTPRequest(request=common_pb2.HTTPRequest(body=chunk)))
                result.sent += len(chunk)
            if end:
                await call.write(
                    hooks.ServeHTTPRequest(request=common_pb2.HTTPRequest(body_end=True))
                )
            await call.done_writing()
        except (asyncio.InvalidStateError, grpc.RpcError):
            pass  # the response ended first

    sender = asyncio.ensure_future(send())
    try:
        async for message in call:
            frame = message.response
            if not result.frames and not result.status:
                assert frame.status_code, "the first frame carries the status"
                result.status = frame.status_code
                result.headers = [(h.name, list(h.values)) for h in frame.headers]
            else:
                assert not frame.status_code and not frame.headers
            assert len(frame.body) <= CHUNK_SIZE
            result.body.update(frame.body)
            if keep:
                result.data += frame.body
                result.frames.append(frame)
            result.ended = frame.body_end
            if frame.body_end:
                break  # as relayHTTP: the response is complete
    except grpc.aio.AioRpcError as err:
        result.error = err
    sender.cancel()
    return result


def head_frame(
    method: str = "POST",
    url: str = "/plugins/p/x",
    headers: Iterable[tuple[str, list[str]]] = (),
    body: bytes = b"",
    body_end: bool = False,
) -> common_pb2.HTTPRequest:
    return common_pb2.HTTPRequest(
        method=method,
        url=url,
        proto="HTTP/1.1",
        headers=[common_pb2.HTTPHeader(name=n, values=v) for n, v in headers],
        host="example.com",
        remote_addr="10.0.0.1:5555",
        request_uri=url,
        content_length=-1,
        body=body,
        body_end=body_end,
    )


async def connect(hook: Hook) -> AsyncIterator[Callable[[], Any]]:
    async with aio_server(hook.handlers()) as address:
        channel = aconnect(address)  # windows as the Go side sets them
        stub = multicallable(
            channel,
            "stream_stream",
            "/test.Hooks/ServeHTTP",
            hooks.ServeHTTPRequest,
            hooks.ServeHTTPResponse,
        )
        try:
            yield stub
        finally:
            await channel.close(None)


def echo_sync(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
    assert threading.current_thread() is not threading.main_thread()
    w.headers.set("Content-Type", r.headers.get("Content-Type") or "x/unknown")
    w.headers.add("X-Seen", r.method)
    w.headers.add("X-Seen", c.request_id)
    w.write_header(201)
    for chunk in r:
        w.write(chunk)


async def echo_async(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
    w.headers.set("Content-Type", r.headers.get("Content-Type") or "x/unknown")
    w.headers.add("X-Seen", r.method)
    w.headers.add("X-Seen", c.request_id)
    w.write_header(201)
    async for chunk in r:
        await w.awrite(chunk)


@pytest.mark.parametrize("handler", [echo_sync, echo_async], ids=["sync", "async"])
async def test_16_mib_each_way_streams_byte_identical(handler: Callable[..., Any]) -> None:
    hook = Hook()
    hook.handler = handler
    async for stub in connect(hook):
        pattern = Pattern(16 * MiB, chunk=CHUNK_SIZE)
        head = head_frame(headers=[("Content-Type", ["application/octet-stream"])])
        with traced_peak() as peak:
            result = await exchange(stub(), head, pattern.chunks(), keep=False)
        assert result.error is None
        assert result.status == 201
        assert result.ended
        assert result.body.size == 16 * MiB
        assert result.body.hexdigest() == pattern.expected()
        assert result.body.largest == CHUNK_SIZE
        assert ("X-Seen", ["POST", "req-1"]) in result.headers
        assert ("Content-Type", ["application/octet-stream"]) in result.headers
        assert peak[0] < 4 * MiB, peak


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_writer_ahead_of_the_client_waits(kind: str) -> None:
    hook = Hook()
    written = [0]

    def sync(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        for chunk in Pattern(16 * MiB).chunks():
            written[0] += w.write(chunk)

    async def asynchronous(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        for chunk in Pattern(16 * MiB).chunks():
            written[0] += await w.awrite(chunk)

    hook.handler = sync if kind == "sync" else asynchronous
    async for stub in connect(hook):
        call = stub()
        await call.write(hooks.ServeHTTPRequest(request=head_frame("GET", body_end=True)))
        with traced_peak() as peak:
            responses = call.__aiter__()
            await responses.__anext__()
            await asyncio.sleep(0.5)  # the client reads nothing meanwhile
            ahead = written[0]
            digest = Digest()
            async for message in responses:
                digest.update(message.response.body)
                if message.response.body_end:
                    break
    # The handler waits for the client instead of queueing the body.
    assert ahead < 2 * MiB, ahead
    assert peak[0] < 4 * MiB, peak
    assert written[0] == 16 * MiB


async def test_request_fields_and_multi_value_headers() -> None:
    hook = Hook()
    seen: dict[str, Any] = {}

    def handler(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        seen.update(
            method=r.method,
            url=r.url,
            path=r.path,
            query=r.query,
            host=r.host,
            remote=r.remote_addr,
            uri=r.request_uri,
            proto=r.proto,
            length=r.content_length,
            multi=r.headers.get_all("x-multi"),
            agent=c.user_agent,
            body=r.read(),
        )
        w.headers.add("Set-Cookie", "a=1")
        w.headers.add("set-cookie", "b=2")
        w.write(b"ok")

    hook.handler = handler
    async for stub in connect(hook):
        head = head_frame(
            "PUT",
            "/plugins/p/x?y=1",
            [("x-multi", ["1", "2"]), ("X-MULTI", ["3"])],
            body=b"inline",
            body_end=True,
        )
        result = await exchange(stub(), head)
    assert seen == {
        "method": "PUT",
        "url": "/plugins/p/x?y=1",
        "path": "/plugins/p/x",
        "query": "y=1",
        "host": "example.com",
        "remote": "10.0.0.1:5555",
        "uri": "/plugins/p/x?y=1",
        "proto": "HTTP/1.1",
        "length": -1,
        "multi": ["1", "2", "3"],
        "agent": "test",
        "body": b"inline",
    }
    assert result.status == 200
    assert result.headers == [("Set-Cookie", ["a=1", "b=2"])]
    assert len(result.frames) == 1 and result.frames[0].body_end
    assert bytes(result.data) == b"ok"


async def test_a_handler_that_writes_nothing_answers_200_without_body() -> None:
    hook = Hook()
    async for stub in connect(hook):
        result = await exchange(stub(), head_frame("GET", body_end=True))
    assert result.status == 200
    assert [(f.body, f.body_end) for f in result.frames] == [(b"", True)]


async def test_flush_sends_what_was_written() -> None:
    hook = Hook()
    arrived = asyncio.Event()

    async def handler(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        await w.awrite(b"first")
        await w.aflush()
        await asyncio.wait_for(arrived.wait(), 5)
        await w.awrite(b"second")

    hook.handler = handler
    async for stub in connect(hook):
        call = stub()
        await call.write(hooks.ServeHTTPRequest(request=head_frame("GET", body_end=True)))
        first = (await asyncio.wait_for(call.read(), 5)).response
        # It arrived while the handler still waits.
        assert not arrived.is_set()
        arrived.set()
        second = (await call.read()).response
    assert [(f.status_code, f.body, f.flush, f.body_end) for f in (first, second)] == [
        (200, b"first", True, False),
        (0, b"second", False, True),
    ]


async def test_early_response_before_the_request_body_is_read() -> None:
    hook = Hook()

    def handler(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        w.write_header(413)
        w.write(b"too large")

    hook.handler = handler
    async for stub in connect(hook):
        pattern = Pattern(64 * MiB)
        result = await exchange(stub(), head_frame(), pattern.chunks())
    assert result.error is None
    assert (result.status, bytes(result.data), result.ended) == (413, b"too large", True)
    assert result.sent < 64 * MiB


async def test_handler_exception_is_internal() -> None:
    hook = Hook()

    def before(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        raise RuntimeError("no route")

    async def after(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        await w.awrite(b"x" * (CHUNK_SIZE + 10))
        raise RuntimeError("half way")

    async for stub in connect(hook):
        hook.handler = before
        result = await exchange(stub(), head_frame("GET", body_end=True))
        assert result.error is not None
        assert result.error.code() is grpc.StatusCode.INTERNAL
        assert result.error.details() == "ServeHTTP: no route"
        assert not result.frames
        hook.handler = after
        result = await exchange(stub(), head_frame("GET", body_end=True))
        assert result.error is not None
        assert result.error.code() is grpc.StatusCode.INTERNAL
        assert not result.ended


async def test_head_requests_and_bodiless_statuses() -> None:
    hook = Hook()
    problems: list[str] = []

    def handler(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        if r.method == "HEAD":
            w.headers.set("Content-Length", "5")
            assert w.write(b"hello") == 5
            return
        w.write_header(204)
        w.write_header(500)  # ignored, as in Go
        try:
            w.write(b"x")
        except ValueError as exc:
            problems.append(str(exc))

    hook.handler = handler
    async for stub in connect(hook):
        head = await exchange(stub(), head_frame("HEAD", body_end=True))
        assert (head.status, bytes(head.data), head.ended) == (200, b"", True)
        assert head.headers == [("Content-Length", ["5"])]
        empty = await exchange(stub(), head_frame("GET", body_end=True))
        assert (empty.status, bytes(empty.data)) == (204, b"")
    assert problems == ["HTTP status 204 does not allow a body"]


async def test_blocking_calls_on_the_loop_are_refused() -> None:
    hook = Hook()
    problems: list[str] = []

    async def handler(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        for action in (r.read, lambda: w.write(b"x")):
            try:
                action()
            except RuntimeError as exc:
                problems.append(str(exc))
        await w.awrite(await r.aread())

    hook.handler = handler
    async for stub in connect(hook):
        result = await exchange(stub(), head_frame(), [b"abc"])
    assert bytes(result.data) == b"abc"
    assert len(problems) == 2 and all("async" in p for p in problems)


async def test_truncated_request_body() -> None:
    hook = Hook()
    errors: list[BaseException] = []

    def handler(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        try:
            r.read()
        except EOFError as exc:
            errors.append(exc)
            w.write_header(400)

    hook.handler = handler
    async for stub in connect(hook):
        result = await exchange(stub(), head_frame(), [b"abc"], end=False)
    assert result.status == 400
    assert len(errors) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_the_client_going_away_stops_the_handler(kind: str) -> None:
    hook = Hook()
    stopped = threading.Event()
    outcome: list[str] = []

    def sync_handler(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        try:
            while True:
                w.write(b"x" * CHUNK_SIZE)
        except ConnectionResetError as exc:
            outcome.append(f"reset: {exc}")
        finally:
            stopped.set()

    async def async_handler(c: PluginContext, w: ResponseWriter, r: HTTPRequest) -> None:
        try:
            while True:
                await w.awrite(b"x" * CHUNK_SIZE)
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        finally:
            stopped.set()

    hook.handler = sync_handler if kind == "sync" else async_handler
    async for stub in connect(hook):
        call = stub()
        await call.write(hooks.ServeHTTPRequest(request=head_frame("GET", body_end=True)))
        got = 0
        async for _ in call:
            got += 1
            if got == 5:
                break
        call.cancel()
        for _ in range(100):
            if stopped.is_set():
                break
            await asyncio.sleep(0.02)
    assert stopped.is_set()
    if kind == "sync":
        assert outcome == ["reset: the HTTP client went away"]
    else:
        assert outcome == ["cancelled"]


async def test_no_head_is_invalid_argument() -> None:
    hook = Hook()
    async for stub in connect(hook):
        call = stub()
        await call.done_writing()
        with pytest.raises(grpc.aio.AioRpcError) as info:
            async for _ in call:
                pass
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_writer_frames_follow_the_protocol() -> None:
    async def main() -> list[common_pb2.HTTPResponse]:
        from mattermost_plugin._http import _Channel

        channel = _Channel(limit=100)
        writer = ResponseWriter(channel)
        writer.headers.add("A", "1")
        await writer.awrite(b"a" * 10)
        await writer.awrite(b"b" * (CHUNK_SIZE * 2 + 5))
        await writer.aflush()
        await writer.awrite(memoryview(b"c" * CHUNK_SIZE))
        await writer._afinish()
        await channel.finish()
        frames = []
        while (frame := await channel.get()) is not None:
            frames.append(frame)
        return frames

    frames = asyncio.new_event_loop().run_until_complete(main())
    assert [(f.status_code, len(f.body), f.flush, f.body_end) for f in frames] == [
        (200, CHUNK_SIZE, False, False),
        (0, CHUNK_SIZE, False, False),
        (0, 15, True, False),
        (0, CHUNK_SIZE, False, False),
        (0, 0, False, True),
    ]
    assert [(h.name, list(h.values)) for h in frames[0].headers] == [("A", ["1"])]


async def test_invalid_status() -> None:
    from mattermost_plugin._http import _Channel

    writer = ResponseWriter(_Channel())
    with pytest.raises(ValueError):
        writer.write_header(1000)
    writer.write_header(100)  # informational: not relayed
    assert writer.status_code == 0
    writer.write_header(404)
    assert writer.status_code == 404
