"""The side of hashicorp/go-plugin's protocol a plugin process serves, so
that the server's go-plugin client can start, watch and stop it.

- The handshake line, the first line on stdout:
  `CORE-VERSION|APP-VERSION|NETWORK|ADDRESS|PROTOCOL`, here
  `1|1|tcp|127.0.0.1:PORT|grpc` (Mattermost's app protocol version is 1).
- `grpc.health.v1.Health`: the service named `plugin` is SERVING while the
  process serves (go-plugin pings it).
- `plugin.GRPCController/Shutdown`: the host's `Kill` asks the process to
  stop; it answers, then stops gracefully.
- `plugin.GRPCStdio/StreamStdio`: the host opens it at once and copies what
  arrives to its stdout/stderr writers; without it the host logs a warning.
  This process writes its logs to stderr (which go-plugin reads directly)
  and sends nothing here: the stream stays open and idle until shutdown.

The messages are tiny and hand-encoded (go-plugin's `internal/plugin`
protos): `plugin.Empty` and `google.protobuf.Empty` are empty, `StdioData`
is `{Channel channel = 1; bytes data = 2}` with STDOUT = 1, STDERR = 2.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

import grpc
import grpc.aio

__all__ = [
    "APP_PROTOCOL_VERSION",
    "CORE_PROTOCOL_VERSION",
    "HEALTH_SERVICE",
    "STDERR",
    "STDOUT",
    "GoPluginServices",
    "encode_stdio",
    "handshake_line",
]

CORE_PROTOCOL_VERSION = 1
"""go-plugin's core protocol version."""

APP_PROTOCOL_VERSION = 1
"""Mattermost's plugin protocol version (its HandshakeConfig)."""

HEALTH_SERVICE = "plugin"
"""The service name go-plugin checks in the health service."""

CONTROLLER_SERVICE = "plugin.GRPCController"
STDIO_SERVICE = "plugin.GRPCStdio"

STDOUT = 1
"""`StdioData.Channel.STDOUT`."""
STDERR = 2
"""`StdioData.Channel.STDERR`."""


def handshake_line(port: int, host: str = "127.0.0.1") -> str:
    """The line that tells go-plugin where the process serves gRPC."""
    return f"{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{host}:{port}|grpc"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_stdio(channel: int, data: bytes) -> bytes:
    """A serialized `plugin.StdioData`."""
    return b"\x08" + _varint(channel) + b"\x12" + _varint(len(data)) + data


def _ignore(_: bytes) -> None:
    return None


def _empty(_: object) -> bytes:
    return b""


def _identity(data: bytes) -> bytes:
    return data


class GoPluginServices:
    """The go-plugin services of one server: health, controller, stdio.
    `on_shutdown` is called (on the event loop) when the host asks the
    process to stop, after the answer has gone out."""

    def __init__(self, on_shutdown: Callable[[], None]) -> None:
        self._on_shutdown = on_shutdown
        self._stopping: asyncio.Event | None = None
        self._health: Any = None

    def register(self, server: grpc.aio.Server) -> None:
        """Adds the services to `server` (before it starts)."""
        # grpcio-health-checking has no type information.
        health: Any = importlib.import_module("grpc_health.v1.health")
        health_grpc: Any = importlib.import_module("grpc_health.v1.health_pb2_grpc")
        self._stopping = asyncio.Event()
        self._health = health.aio.HealthServicer()
        health_grpc.add_HealthServicer_to_server(self._health, server)
        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    CONTROLLER_SERVICE,
                    {
                        "Shutdown": grpc.unary_unary_rpc_method_handler(
                            self._shutdown,
                            request_deserializer=_ignore,
                            response_serializer=_empty,
                        )
                    },
                ),
                grpc.method_handlers_generic_handler(
                    STDIO_SERVICE,
                    {
                        "StreamStdio": grpc.unary_stream_rpc_method_handler(
                            self._stream_stdio,
                            request_deserializer=_ignore,
                            response_serializer=_identity,
                        )
                    },
                ),
            )
        )

    async def serving(self) -> None:
        """Reports the process SERVING (once the server has started)."""
        health_pb2: Any = importlib.import_module("grpc_health.v1.health_pb2")
        await self._health.set(HEALTH_SERVICE, health_pb2.HealthCheckResponse.SERVING)

    async def stopping(self) -> None:
        """Reports NOT_SERVING and ends the stdio streams, so that a graceful
        stop does not wait for them."""
        if self._stopping is not None:
            self._stopping.set()
        if self._health is not None:
            await self._health.enter_graceful_shutdown()

    async def _shutdown(self, request: None, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        asyncio.get_running_loop().call_soon(self._on_shutdown)

    async def _stream_stdio(
        self, request: None, context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        if self._stopping is not None:
            await self._stopping.wait()
