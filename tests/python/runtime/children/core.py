"""A plugin process without a plugin: `_serve` with a tiny test service.
It prints to stdout before and after the handshake; neither may reach
stdout. Argument: the handshake goes to the real stdout."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from typing import Any

import grpc
import grpc.aio

from mattermost_plugin._dispatch import Dispatcher
from mattermost_plugin._logging import configure
from mattermost_plugin._process import Settings, _exit_if_stuck, _serve

DISPATCHER: list[Dispatcher] = []


async def echo(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    print("stray print from a handler")
    return request


def never_returns() -> None:
    threading.Event().wait()


async def stuck(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    await DISPATCHER[0].call(context, "Stuck", never_returns, in_band_errors=False)
    return b""


def setup(server: grpc.aio.Server, dispatcher: Dispatcher) -> None:
    print("stray print while building the plugin")
    if os.environ.get("CORE_FAIL"):
        raise RuntimeError("the plugin's constructor failed")
    DISPATCHER.append(dispatcher)
    methods = {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Stuck": grpc.unary_unary_rpc_method_handler(stuck),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", methods),))


def main() -> None:
    configure("debug")
    timeout = float(os.environ.get("CORE_HOOK_TIMEOUT", "5"))
    parent_fd = os.environ.get("MM_PLUGIN_PARENT_FD")
    settings = Settings(
        api_address="127.0.0.1:1",
        plugin_id="core",
        hook_timeout=timeout,
        parent_fd=int(parent_fd) if parent_fd else None,
    )
    asyncio.run(_serve(settings, setup, logger=logging.getLogger("mattermost_plugin")))
    sys.stderr.write("core: stopped\n")
    _exit_if_stuck()  # as run() does


if __name__ == "__main__":
    main()
