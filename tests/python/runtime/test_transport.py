"""`Calls` and `AsyncCalls` against a real gRPC server on loopback that
speaks the real API messages: AppErrors, transport errors, the token, the
deadline, chunked uploads and PluginHTTP streams."""

from __future__ import annotations

import asyncio
import io
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import grpc
import grpc.aio
import pytest

from helpers import (
    Digest,
    MiB,
    Pattern,
    PatternFile,
    ServerThread,
    aio_server,
    method_handler,
    multicallable,
    service,
    traced_peak,
)
from mattermost_plugin._http import HTTPRequest
from mattermost_plugin._transport import (
    CHUNK_SIZE,
    TOKEN_HEADER,
    AsyncCalls,
    Calls,
    aconnect,
    connect,
)
from mattermost_plugin.errors import (
    DeadlineExceededError,
    InternalError,
    NotFoundError,
    PayloadTooLargeError,
    PluginAPIError,
    UnauthorizedError,
    UnavailableError,
    UnsupportedError,
)
from mattermost_plugin.pb.mattermost.plugin.v1 import common_pb2, plugin_api_pb2
from mattermost_plugin.pb.mattermost.plugin.v1.model_file_pb2 import FileInfo, UploadSession
from mattermost_plugin.pb.mattermost.plugin.v1.model_user_pb2 import User

SERVICE = "test.API"

# --- The server. ---


def _token(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == TOKEN_HEADER:
            return str(value)
    return ""


async def get_user(
    request: plugin_api_pb2.GetUserRequest, context: grpc.aio.ServicerContext[Any, Any]
) -> plugin_api_pb2.GetUserResponse:
    mode, _, arg = request.user_id.partition(":")
    if mode == "app":
        error = common_pb2.AppError(
            id="app.user.missing",
            message="No such user.",
            detailed_error="id=" + arg,
            request_id="rq",
            status_code=int(arg),
            where="GetUser",
        )
        error.params.update({"UserId": arg})
        return plugin_api_pb2.GetUserResponse(error=error)
    if mode == "sleep":
        await asyncio.sleep(float(arg))
    if mode == "abort":
        await context.abort(grpc.StatusCode[arg], "why not")
    if mode == "big":
        return plugin_api_pb2.GetUserResponse(user=User(id="u", first_name="x" * int(arg)))
    return plugin_api_pb2.GetUserResponse(user=User(id="u1", username=_token(context)))


async def no_app_error(
    request: plugin_api_pb2.PluginHTTPResponse, context: grpc.aio.ServicerContext[Any, Any]
) -> plugin_api_pb2.PluginHTTPRequest:
    # A response type whose field 1 is a message other than AppError.
    return plugin_api_pb2.PluginHTTPRequest(request=common_pb2.HTTPRequest(method="GET"))


async def upload(
    requests: AsyncIterator[plugin_api_pb2.UploadDataRequest],
    context: grpc.aio.ServicerContext[Any, Any],
) -> plugin_api_pb2.UploadDataResponse:
    digest = Digest()
    heads = []
    first = True
    async for request in requests:
        heads.append(request.HasField("us"))
        if first and request.us.id == "fail-early":
            error = common_pb2.AppError(id="too.big", status_code=413, message="too big")
            return plugin_api_pb2.UploadDataResponse(error=error)
        first = False
        digest.update(request.rd)
        if request.us.id == "slow":
            await asyncio.sleep(0.001)
    info = FileInfo(
        name=digest.hexdigest(),
        size=digest.size,
        extension=f"{digest.largest}/{len(heads)}/{sum(heads)}/{int(heads[0]) if heads else -1}",
        creator_id=_token(context),
    )
    return plugin_api_pb2.UploadDataResponse(file_info=info)


def _response(frame: common_pb2.HTTPResponse) -> plugin_api_pb2.PluginHTTPResponse:
    return plugin_api_pb2.PluginHTTPResponse(response=frame)


async def plugin_http(
    requests: AsyncIterator[plugin_api_pb2.PluginHTTPRequest],
    context: grpc.aio.ServicerContext[Any, Any],
) -> AsyncIterator[plugin_api_pb2.PluginHTTPResponse]:
    it = requests.__aiter__()
    head = (await it.__anext__()).request
    path = head.url.split("?")[0]
    headers = list(head.headers) + [
        common_pb2.HTTPHeader(name="X-Multi", values=["a", "b"]),
        common_pb2.HTTPHeader(name="X-Token", values=[_token(context)]),
        common_pb2.HTTPHeader(name="X-Method", values=[head.method]),
        common_pb2.HTTPHeader(name="X-Length", values=[str(head.content_length)]),
    ]
    if path == "/truncate":
        yield _response(common_pb2.HTTPResponse(status_code=200, body=b"part"))
        return
    if path == "/invalid":
        yield _response(common_pb2.HTTPResponse(status_code=0))
        return
    if path == "/abort":
        await context.abort(grpc.StatusCode.UNAVAILABLE, "gone")
    if path.startswith("/generate/"):
        # An early response: the request body is never read.
        pattern = Pattern(int(path.rsplit("/", 1)[1]), seed=11)
        yield _response(common_pb2.HTTPResponse(status_code=200, headers=headers))
        for chunk in pattern.chunks():
            yield _response(common_pb2.HTTPResponse(body=chunk))
        yield _response(common_pb2.HTTPResponse(body_end=True))
        return
    # Echo the body as it arrives.
    yield _response(
        common_pb2.HTTPResponse(status_code=201, headers=headers, body=head.body, flush=True)
    )
    end = head.body_end
    while not end:
        frame = (await it.__anext__()).request
        if len(frame.body) > CHUNK_SIZE:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "chunk too large")
        end = frame.body_end
        yield _response(common_pb2.HTTPResponse(body=frame.body))
    yield _response(common_pb2.HTTPResponse(body_end=True))


def handlers() -> Sequence[grpc.GenericRpcHandler[Any, Any]]:
    api = plugin_api_pb2
    return [
        service(
            SERVICE,
            {
                "GetUser": method_handler(
                    "unary_unary", get_user, api.GetUserRequest, api.GetUserResponse
                ),
                "NoAppError": method_handler(
                    "unary_unary", no_app_error, api.PluginHTTPResponse, api.PluginHTTPRequest
                ),
                "UploadData": method_handler(
                    "stream_unary", upload, api.UploadDataRequest, api.UploadDataResponse
                ),
                "PluginHTTP": method_handler(
                    "stream_stream", plugin_http, api.PluginHTTPRequest, api.PluginHTTPResponse
                ),
            },
        )
    ]


class Stubs:
    """Multicallables as the generated stub has them."""

    def __init__(self, channel: grpc.Channel | grpc.aio.Channel) -> None:
        api = plugin_api_pb2
        path = f"/{SERVICE}/"
        self.GetUser = multicallable(
            channel, "unary_unary", path + "GetUser", api.GetUserRequest, api.GetUserResponse
        )
        self.NoAppError = multicallable(
            channel,
            "unary_unary",
            path + "NoAppError",
            api.PluginHTTPResponse,
            api.PluginHTTPRequest,
        )
        self.Missing = multicallable(
            channel, "unary_unary", path + "Missing", api.GetUserRequest, api.GetUserResponse
        )
        self.UploadData = multicallable(
            channel,
            "stream_unary",
            path + "UploadData",
            api.UploadDataRequest,
            api.UploadDataResponse,
        )
        self.PluginHTTP = multicallable(
            channel,
            "stream_stream",
            path + "PluginHTTP",
            api.PluginHTTPRequest,
            api.PluginHTTPResponse,
        )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with ServerThread(handlers) as running:
        yield running.address


@pytest.fixture
def stubs(server: str) -> Iterator[Stubs]:
    channel = connect(server)
    yield Stubs(channel)
    channel.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- Unary. ---


def test_unary_returns_the_response_with_the_token(stubs: Stubs) -> None:
    calls = Calls(timeout=5, token="s3cret")
    response = calls.unary(
        stubs.GetUser, plugin_api_pb2.GetUserRequest(user_id="ok"), None, "GetUser"
    )
    assert response.user.id == "u1"
    assert response.user.username == "s3cret"
    no_token = Calls(timeout=5, token=None).unary(
        stubs.GetUser, plugin_api_pb2.GetUserRequest(user_id="ok"), None, "GetUser"
    )
    assert no_token.user.username == ""


@pytest.mark.parametrize("status", [404, 500, 403])
def test_unary_raises_the_app_error(stubs: Stubs, status: int) -> None:
    calls = Calls(timeout=5, token="t")
    with pytest.raises(PluginAPIError) as info:
        calls.unary(
            stubs.GetUser, plugin_api_pb2.GetUserRequest(user_id=f"app:{status}"), None, "GetUser"
        )
    exc = info.value
    assert exc.status_code == status
    assert (exc.id, exc.message, exc.detailed_error) == (
        "app.user.missing",
        "No such user.",
        f"id={status}",
    )
    assert (exc.request_id, exc.where, exc.params) == ("rq", "GetUser", {"UserId": str(status)})
    assert exc.grpc_code is None
    if status == 404:
        assert type(exc) is NotFoundError
    assert exc.__cause__ is None and exc.__context__ is None


def test_unary_response_without_app_error_field(stubs: Stubs) -> None:
    response = Calls().unary(
        stubs.NoAppError, plugin_api_pb2.PluginHTTPResponse(), None, "NoAppError"
    )
    assert response.request.method == "GET"


def test_unary_maps_transport_errors(stubs: Stubs) -> None:
    calls = Calls(timeout=5)
    with pytest.raises(UnauthorizedError) as info:
        calls.unary(
            stubs.GetUser,
            plugin_api_pb2.GetUserRequest(user_id="abort:UNAUTHENTICATED"),
            None,
            "GetUser",
        )
    assert info.value.grpc_code is grpc.StatusCode.UNAUTHENTICATED
    assert info.value.id == "plugin.python.transport.unauthenticated"
    assert "why not" in str(info.value)
    assert info.value.__suppress_context__
    with pytest.raises(UnsupportedError):
        calls.unary(stubs.Missing, plugin_api_pb2.GetUserRequest(), None, "Missing")


def test_unary_server_gone_is_unavailable() -> None:
    channel = connect(f"127.0.0.1:{closed_port()}")
    try:
        with pytest.raises(UnavailableError) as info:
            Calls(timeout=2).unary(
                Stubs(channel).GetUser, plugin_api_pb2.GetUserRequest(), None, "GetUser"
            )
        assert info.value.grpc_code is grpc.StatusCode.UNAVAILABLE
        assert info.value.status_code == 503
    finally:
        channel.close()


def test_unary_deadline_per_call_and_per_client(stubs: Stubs) -> None:
    slow = plugin_api_pb2.GetUserRequest(user_id="sleep:2")
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as info:
        Calls(timeout=30).unary(stubs.GetUser, slow, 0.2, "GetUser")
    assert time.monotonic() - started < 1.5
    assert info.value.status_code == 504
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        Calls(timeout=0.2).unary(stubs.GetUser, slow, None, "GetUser")
    assert time.monotonic() - started < 1.5


def test_message_limits(stubs: Stubs) -> None:
    calls = Calls(timeout=10)
    big = plugin_api_pb2.GetUserRequest(user_id="x" * (5 * MiB))
    with pytest.raises(PayloadTooLargeError) as info:
        calls.unary(stubs.GetUser, big, None, "GetUser")
    assert info.value.grpc_code is grpc.StatusCode.RESOURCE_EXHAUSTED
    # What grpc-go sends (up to 2 GiB) is received.
    response = calls.unary(
        stubs.GetUser, plugin_api_pb2.GetUserRequest(user_id=f"big:{6 * MiB}"), None, "GetUser"
    )
    assert len(response.user.first_name) == 6 * MiB


async def test_async_unary() -> None:
    async with aio_server(handlers()) as address:
        channel = aconnect(address)
        stubs = Stubs(channel)
        calls = AsyncCalls(timeout=5, token="tok")
        response = await calls.unary(
            stubs.GetUser, plugin_api_pb2.GetUserRequest(user_id="ok"), None, "GetUser"
        )
        assert response.user.username == "tok"
        with pytest.raises(NotFoundError) as info:
            await calls.unary(
                stubs.GetUser, plugin_api_pb2.GetUserRequest(user_id="app:404"), None, "GetUser"
            )
        assert info.value.params == {"UserId": "404"}
        with pytest.raises(DeadlineExceededError):
            await calls.unary(
                stubs.GetUser, plugin_api_pb2.GetUserRequest(user_id="sleep:2"), 0.1, "GetUser"
            )
        with pytest.raises(InternalError) as internal:
            await calls.unary(
                stubs.GetUser,
                plugin_api_pb2.GetUserRequest(user_id="abort:DATA_LOSS"),
                None,
                "GetUser",
            )
        assert internal.value.grpc_code is grpc.StatusCode.DATA_LOSS
        await channel.close(None)


# --- Client streams. ---


def _check_upload(info: FileInfo, pattern: Pattern, messages: int) -> None:
    largest, count, with_head, first_has_head = info.extension.split("/")
    assert info.name == pattern.expected()
    assert info.size == pattern.total
    assert int(largest) <= CHUNK_SIZE
    assert int(count) == messages
    assert (with_head, first_has_head) == ("1", "1")


def test_stream_unary_file_object_of_16_mib(stubs: Stubs) -> None:
    pattern = Pattern(16 * MiB)
    source = PatternFile(pattern)
    calls = Calls(timeout=60, token="tk")
    head = plugin_api_pb2.UploadDataRequest(us=UploadSession(id="slow"))
    with traced_peak() as peak:
        response = calls.stream_unary(stubs.UploadData, head, "rd", source, None, "UploadData")  # type: ignore[arg-type]
    _check_upload(response.file_info, pattern, 256)
    assert response.file_info.creator_id == "tk"
    assert set(source.read_sizes) == {CHUNK_SIZE}
    assert peak[0] < 4 * MiB, peak


def test_stream_unary_iterable_is_read_as_it_is_sent(stubs: Stubs) -> None:
    pattern = Pattern(16 * MiB, chunk=100_000)  # split into 64 KiB pieces
    head = plugin_api_pb2.UploadDataRequest(us=UploadSession(id="x"))
    with traced_peak() as peak:
        response = Calls(timeout=60).stream_unary(
            stubs.UploadData, head, "rd", pattern.chunks(), None, "UploadData"
        )
    assert response.file_info.name == pattern.expected()
    assert response.file_info.size == 16 * MiB
    assert int(response.file_info.extension.split("/")[0]) == CHUNK_SIZE
    assert peak[0] < 4 * MiB, peak


def test_stream_unary_bytes_and_empty(stubs: Stubs) -> None:
    calls = Calls(timeout=10)
    response = calls.stream_unary(
        stubs.UploadData,
        plugin_api_pb2.UploadDataRequest(us=UploadSession(id="x")),
        "rd",
        b"abc" * CHUNK_SIZE,
        None,
        "UploadData",
    )
    assert response.file_info.size == 3 * CHUNK_SIZE
    assert response.file_info.extension == f"{CHUNK_SIZE}/3/1/1"
    empty = calls.stream_unary(
        stubs.UploadData,
        plugin_api_pb2.UploadDataRequest(us=UploadSession(id="x")),
        "rd",
        b"",
        None,
        "UploadData",
    )
    assert empty.file_info.size == 0
    assert empty.file_info.extension == "0/1/1/1"


def test_stream_unary_app_error_and_source_failure(stubs: Stubs) -> None:
    calls = Calls(timeout=10)
    with pytest.raises(PayloadTooLargeError) as info:
        calls.stream_unary(
            stubs.UploadData,
            plugin_api_pb2.UploadDataRequest(us=UploadSession(id="fail-early")),
            "rd",
            Pattern(8 * MiB).chunks(),
            None,
            "UploadData",
        )
    assert info.value.id == "too.big"

    def broken() -> Iterator[bytes]:
        yield b"x" * CHUNK_SIZE
        raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        calls.stream_unary(
            stubs.UploadData,
            plugin_api_pb2.UploadDataRequest(us=UploadSession(id="x")),
            "rd",
            broken(),
            None,
            "UploadData",
        )


async def test_async_stream_unary_sources() -> None:
    async with aio_server(handlers()) as address:
        channel = aconnect(address)
        stubs = Stubs(channel)
        calls = AsyncCalls(timeout=60, token="at")
        makers: list[Callable[[Pattern], Any]] = [
            PatternFile,
            lambda p: p.chunks(),
            lambda p: p.achunks(),
        ]
        for make in makers:
            pattern = Pattern(4 * MiB + 7)
            with traced_peak() as peak:
                response = await calls.stream_unary(
                    stubs.UploadData,
                    plugin_api_pb2.UploadDataRequest(us=UploadSession(id="x")),
                    "rd",
                    make(pattern),
                    None,
                    "UploadData",
                )
            _check_upload(response.file_info, pattern, 65)
            assert response.file_info.creator_id == "at"
            assert peak[0] < 3 * MiB
        with pytest.raises(PayloadTooLargeError):
            await calls.stream_unary(
                stubs.UploadData,
                plugin_api_pb2.UploadDataRequest(us=UploadSession(id="fail-early")),
                "rd",
                Pattern(8 * MiB).chunks(),
                None,
                "UploadData",
            )

        async def broken() -> AsyncIterator[bytes]:
            yield b"x"
            raise OSError("network share gone")

        with pytest.raises(OSError, match="share gone"):
            await calls.stream_unary(
                stubs.UploadData,
                plugin_api_pb2.UploadDataRequest(),
                "rd",
                broken(),
                None,
                "UploadData",
            )
        await channel.close(None)


# --- PluginHTTP. ---


def _http(calls: Calls, stubs: Stubs, request: HTTPRequest) -> Any:
    return calls.http(
        stubs.PluginHTTP,
        request,
        plugin_api_pb2.PluginHTTPRequest,
        "request",
        "response",
        None,
        "PluginHTTP",
    )


def test_http_16_mib_each_way_byte_identical(stubs: Stubs) -> None:
    pattern = Pattern(16 * MiB, chunk=50_000)
    request = HTTPRequest(
        "POST",
        "/echo",
        [("X-Multi", "1"), ("x-multi", "2"), ("Content-Type", "application/octet-stream")],
        pattern.chunks(),
    )
    received = Digest()
    with traced_peak() as peak:
        response = _http(Calls(timeout=60, token="ht"), stubs, request)
        assert response.status_code == 201
        for chunk in response:
            received.update(chunk)
    assert received.hexdigest() == pattern.expected()
    assert received.size == 16 * MiB
    assert received.largest <= CHUNK_SIZE
    assert response.headers.get_all("X-Multi") == ["1", "2", "a", "b"]
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["X-Token"] == "ht"
    assert response.headers["X-Length"] == "-1"
    assert peak[0] < 4 * MiB, peak


async def test_async_http_16_mib_each_way_byte_identical() -> None:
    async with aio_server(handlers()) as address:
        channel = aconnect(address)
        stubs = Stubs(channel)
        pattern = Pattern(16 * MiB)
        received = Digest()
        with traced_peak() as peak:
            response = await AsyncCalls(timeout=60).http(
                stubs.PluginHTTP,
                HTTPRequest("PUT", "/echo", {"X-Multi": ["x", "y"]}, pattern.achunks()),
                plugin_api_pb2.PluginHTTPRequest,
                "request",
                "response",
                None,
                "PluginHTTP",
            )
            async for chunk in response:
                received.update(chunk)
        assert received.hexdigest() == pattern.expected()
        assert response.headers.get_all("x-multi") == ["x", "y", "a", "b"]
        assert response.headers["X-Method"] == "PUT"
        assert peak[0] < 4 * MiB, peak
        await channel.close(None)


def test_http_small_bodies_and_reads(stubs: Stubs) -> None:
    calls = Calls(timeout=10)
    response = _http(calls, stubs, HTTPRequest("POST", "/echo", body=b"hello world"))
    assert response.headers["X-Length"] == "11"
    assert response.read(5) == b"hello"
    assert response.read() == b" world"
    assert response.read() == b""
    empty = _http(calls, stubs, HTTPRequest("GET", "/echo"))
    assert empty.read() == b""
    assert empty.headers["X-Length"] == "0"


def test_http_early_response_and_close(stubs: Stubs) -> None:
    calls = Calls(timeout=20)
    source = Pattern(64 * MiB)
    response = _http(
        calls, stubs, HTTPRequest("POST", f"/generate/{4 * MiB}", body=source.chunks())
    )
    digest = Digest()
    for chunk in response:
        digest.update(chunk)
    assert digest.hexdigest() == Pattern(4 * MiB, seed=11).expected()
    # The request body stops being read once the response ended.
    assert source.produced < 64 * MiB

    with _http(calls, stubs, HTTPRequest("GET", f"/generate/{16 * MiB}")) as early:
        assert len(early.read(100)) == 100
    with pytest.raises(ValueError, match="closed"):
        early.read()


def test_http_failures(stubs: Stubs) -> None:
    calls = Calls(timeout=10)
    truncated = _http(calls, stubs, HTTPRequest("GET", "/truncate"))
    assert truncated.read(4) == b"part"
    with pytest.raises(UnavailableError) as info:
        truncated.read()
    assert info.value.id == "plugin.python.http.truncated"
    with pytest.raises(UnavailableError) as invalid:
        _http(calls, stubs, HTTPRequest("GET", "/invalid"))
    assert invalid.value.id == "plugin.python.http.invalid_status"
    with pytest.raises(UnavailableError) as aborted:
        _http(calls, stubs, HTTPRequest("GET", "/abort"))
    assert aborted.value.grpc_code is grpc.StatusCode.UNAVAILABLE

    def broken() -> Iterator[bytes]:
        yield b"x"
        raise OSError("source broke")

    with pytest.raises(OSError, match="source broke"):
        _http(calls, stubs, HTTPRequest("POST", "/echo", body=broken())).read()


async def test_async_http_failures() -> None:
    async with aio_server(handlers()) as address:
        channel = aconnect(address)
        stubs = Stubs(channel)
        calls = AsyncCalls(timeout=10)

        async def call(request: HTTPRequest) -> Any:
            return await calls.http(
                stubs.PluginHTTP,
                request,
                plugin_api_pb2.PluginHTTPRequest,
                "request",
                "response",
                None,
                "PluginHTTP",
            )

        truncated = await call(HTTPRequest("GET", "/truncate"))
        with pytest.raises(UnavailableError):
            await truncated.aread()
        with pytest.raises(UnavailableError):
            await call(HTTPRequest("GET", "/abort"))
        early = await call(HTTPRequest("GET", f"/generate/{8 * MiB}"))
        assert len(await early.aread(10)) == 10
        await early.aclose()
        with pytest.raises(ValueError, match="closed"):
            await early.aread()
        small = await call(HTTPRequest("POST", "/echo", body=io.BytesIO(b"abc")))
        assert await small.aread() == b"abc"
        await channel.close(None)
