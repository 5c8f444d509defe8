"""`Dispatcher.call` behind a real grpc.aio server, wired the way the
generated servicer wires it, with the real hook messages: where handlers
run, what their results and exceptions become, timeouts, concurrency."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
import pytest

from helpers import aio_server, method_handler, multicallable, service
from mattermost_plugin._dispatch import Dispatcher, HandlerFailed, Reject
from mattermost_plugin._transport import aconnect
from mattermost_plugin.errors import ConflictError
from mattermost_plugin.pb.mattermost.plugin.v1 import common_pb2, plugin_hooks_pb2
from mattermost_plugin.pb.mattermost.plugin.v1.model_post_pb2 import Post

hooks = plugin_hooks_pb2
SERVICE = "test.Hooks"
Handler = Callable[..., Any]


class Servicer:
    """Two hooks as the generated servicer has them: one with an error
    result (in-band errors), one gate (no error result)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.handler: Handler = lambda *args: None

    async def on_activate(
        self, request: hooks.OnActivateRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> hooks.OnActivateResponse:
        try:
            await self.dispatcher.call(context, "OnActivate", self.handler, in_band_errors=True)
        except HandlerFailed as failure:
            return hooks.OnActivateResponse(error=failure.error)
        return hooks.OnActivateResponse()

    async def message_will_be_posted(
        self,
        request: hooks.MessageWillBePostedRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> hooks.MessageWillBePostedResponse:
        result = await self.dispatcher.call(
            context,
            "MessageWillBePosted",
            self.handler,
            request.context,
            request.post,
            in_band_errors=False,
        )
        if isinstance(result, Reject):
            return hooks.MessageWillBePostedResponse(rejection_reason=result.reason)
        return hooks.MessageWillBePostedResponse(replacement_post=result)

    def handlers(self) -> list[grpc.GenericRpcHandler[Any, Any]]:
        return [
            service(
                SERVICE,
                {
                    "OnActivate": method_handler(
                        "unary_unary",
                        self.on_activate,
                        hooks.OnActivateRequest,
                        hooks.OnActivateResponse,
                    ),
                    "MessageWillBePosted": method_handler(
                        "unary_unary",
                        self.message_will_be_posted,
                        hooks.MessageWillBePostedRequest,
                        hooks.MessageWillBePostedResponse,
                    ),
                },
            )
        ]


class Client:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.on_activate = multicallable(
            channel,
            "unary_unary",
            f"/{SERVICE}/OnActivate",
            hooks.OnActivateRequest,
            hooks.OnActivateResponse,
        )
        self.will_be_posted = multicallable(
            channel,
            "unary_unary",
            f"/{SERVICE}/MessageWillBePosted",
            hooks.MessageWillBePostedRequest,
            hooks.MessageWillBePostedResponse,
        )

    async def post(self, message: str = "hi") -> hooks.MessageWillBePostedResponse:
        request = hooks.MessageWillBePostedRequest(
            context=common_pb2.PluginContext(request_id="r1"), post=Post(message=message)
        )
        response: hooks.MessageWillBePostedResponse = await self.will_be_posted(request)
        return response


async def serve(
    servicer: Servicer,
) -> AsyncIterator[Client]:
    async with aio_server(servicer.handlers()) as address:
        channel = aconnect(address)  # windows as the Go side sets them
        try:
            yield Client(channel)
        finally:
            await channel.close(None)


def running(timeout: float = 5.0) -> tuple[Servicer, Any]:
    servicer = Servicer(Dispatcher(timeout))
    return servicer, serve(servicer)


async def test_sync_handlers_run_in_the_pool_async_ones_on_the_loop() -> None:
    servicer, server = running()
    seen: dict[str, str] = {}
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    async for client in server:

        def sync(c: common_pb2.PluginContext, post: Post) -> Post:
            seen["sync"] = threading.current_thread().name
            seen["var"] = var.get()
            return Post(message=post.message.upper() + c.request_id)

        var.set("set")
        servicer.handler = sync
        response = await client.post("hello")
        assert response.replacement_post.message == "HELLOr1"
        assert seen["sync"].startswith("mattermost-plugin-hook")

        async def asynchronous(c: common_pb2.PluginContext, post: Post) -> Reject:
            seen["async"] = threading.current_thread().name
            await asyncio.sleep(0)
            return Reject("no " + post.message)

        servicer.handler = asynchronous
        assert (await client.post("way")).rejection_reason == "no way"
        assert seen["async"] == threading.main_thread().name

        def returns_awaitable(c: common_pb2.PluginContext, post: Post) -> Awaitable[Post]:
            async def later() -> Post:
                seen["later"] = threading.current_thread().name
                return Post(message="later")

            return later()

        servicer.handler = returns_awaitable
        assert (await client.post()).replacement_post.message == "later"
        assert seen["later"] == threading.main_thread().name

        servicer.handler = lambda c, post: None
        response = await client.post()
        assert not response.HasField("replacement_post") and not response.rejection_reason


def test_reject_needs_a_reason() -> None:
    with pytest.raises(ValueError):
        Reject("")
    assert Reject("x").reason == "x"


async def test_in_band_errors_travel_in_the_response(caplog: pytest.LogCaptureFixture) -> None:
    servicer, server = running()
    async for client in server:

        def fails() -> None:
            raise RuntimeError("cannot activate")

        servicer.handler = fails
        with caplog.at_level(logging.ERROR, logger="mattermost_plugin"):
            response = await client.on_activate(hooks.OnActivateRequest())
        assert response.error.id == "plugin.python.on_activate.error"
        assert response.error.message == "cannot activate"
        assert response.error.status_code == 500
        assert response.error.where == "OnActivate"
        record = next(r for r in caplog.records if "OnActivate failed" in r.getMessage())
        assert record.exc_info is not None and record.exc_info[0] is RuntimeError

        async def conflict() -> None:
            raise ConflictError("taken", id="plugin.x.taken", params={"Name": "n"})

        servicer.handler = conflict
        response = await client.on_activate(hooks.OnActivateRequest())
        assert (response.error.id, response.error.status_code) == ("plugin.x.taken", 409)
        assert response.error.params["Name"] == "n"
        servicer.handler = lambda: None
        assert not (await client.on_activate(hooks.OnActivateRequest())).HasField("error")


async def test_other_hooks_end_with_internal(caplog: pytest.LogCaptureFixture) -> None:
    servicer, server = running()
    async for client in server:

        def fails(c: Any, post: Post) -> None:
            raise KeyError("boom")

        servicer.handler = fails
        with (
            caplog.at_level(logging.ERROR, logger="mattermost_plugin"),
            pytest.raises(grpc.aio.AioRpcError) as info,
        ):
            await client.post()
        assert info.value.code() is grpc.StatusCode.INTERNAL
        assert info.value.details() == "MessageWillBePosted: 'boom'"
        assert any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_timeout_is_deadline_exceeded_for_every_hook(kind: str) -> None:
    servicer, server = running(timeout=0.3)
    release = threading.Event()
    async for client in server:

        def slow_sync(*args: Any) -> None:
            release.wait(10)

        async def slow_async(*args: Any) -> None:
            await asyncio.sleep(5)

        servicer.handler = slow_sync if kind == "sync" else slow_async

        async def activate(client: Client = client) -> Any:
            return await client.on_activate(hooks.OnActivateRequest())

        calls: list[Callable[[], Awaitable[Any]]] = [client.post, activate]
        for call in calls:
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await call()
            assert info.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
            assert "did not answer within 0.3 s" in (info.value.details() or "")
            assert 0.25 < time.monotonic() - started < 3
    release.set()


async def test_a_slow_sync_hook_does_not_block_another() -> None:
    servicer, server = running(timeout=10)
    release = threading.Event()
    async for client in server:

        def handler(c: Any, post: Post) -> Post:
            if post.message == "slow":
                release.wait(5)
            return post

        servicer.handler = handler
        slow = asyncio.ensure_future(client.post("slow"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        for _ in range(5):
            assert (await client.post("fast")).replacement_post.message == "fast"
        assert time.monotonic() - started < 1.0
        assert not slow.done()
        release.set()
        assert (await slow).replacement_post.message == "slow"


async def test_no_timeout_when_none() -> None:
    dispatcher = Dispatcher(None)
    assert dispatcher.timeout is None
    assert Dispatcher(0).timeout is None
    assert await dispatcher.run(lambda x: x + 1, 1) == 2
    dispatcher.shutdown()
