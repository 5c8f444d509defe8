"""go-plugin's side of the protocol, without a process."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import grpc.aio

from mattermost_plugin._goplugin import (
    STDERR,
    STDOUT,
    GoPluginServices,
    encode_stdio,
    handshake_line,
)


def test_handshake_line() -> None:
    assert handshake_line(1234) == "1|1|tcp|127.0.0.1:1234|grpc"


def test_stdio_data_encoding() -> None:
    # StdioData{channel = 1 (enum), data = 2 (bytes)}, as protoc encodes it.
    assert encode_stdio(STDOUT, b"hi") == b"\x08\x01\x12\x02hi"
    assert encode_stdio(STDERR, b"x" * 200) == b"\x08\x02\x12\xc8\x01" + b"x" * 200


async def test_services() -> None:
    stopped = asyncio.Event()
    services = GoPluginServices(on_shutdown=stopped.set)
    server = grpc.aio.server()
    services.register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await services.serving()
    try:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        # HealthCheckRequest{service = "plugin"} -> HealthCheckResponse{status = SERVING (1)}
        assert await check(b"\x0a\x06plugin") == b"\x08\x01"
        stdio = channel.unary_stream(
            "/plugin.GRPCStdio/StreamStdio",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        stream: Any = stdio(b"")
        reader = asyncio.ensure_future(stream.read())
        await asyncio.sleep(0.2)
        assert not reader.done(), "the stdio stream stays open and idle"
        shutdown = channel.unary_unary(
            "/plugin.GRPCController/Shutdown",
            request_serializer=lambda b: b,
            response_deserializer=lambda b: b,
        )
        assert await shutdown(b"") == b""
        await asyncio.wait_for(stopped.wait(), 2)
        await services.stopping()
        assert await asyncio.wait_for(reader, 2) is grpc.aio.EOF  # type: ignore[attr-defined]
        # NOT_SERVING once stopping.
        assert await check(b"\x0a\x06plugin") == b"\x08\x02"
        await channel.close(None)
    finally:
        await server.stop(None)
