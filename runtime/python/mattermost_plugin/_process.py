"""The plugin process: read the environment the server's launcher sets,
serve the plugin's hooks and go-plugin's services, tell go-plugin where,
and stop cleanly.

`run(MyPlugin)` is the whole `main` of a plugin; `await serve(MyPlugin)` is
the same inside a running event loop. The sequence:

1. `Settings.from_env`: without go-plugin's magic cookie the program was not
   started by the server; it says so on stderr and exits with status 1.
2. Logging goes to stderr as hclog JSON lines (`_logging`), and `sys.stdout`
   to the log: stdout belongs to go-plugin, and a stray `print` must not
   corrupt the handshake.
3. The plugin instance gets `api`, `async_api` (clients of the server's API,
   carrying the token), `plugin_id` and `logger` before its `__init__` runs.
4. A gRPC server on 127.0.0.1 (any free port) serves the hooks, health,
   controller and stdio services; once it listens, the handshake line goes to
   the real stdout as the first line.
5. SIGTERM, SIGINT, the controller's `Shutdown` or the end of the process
   that started it (end of file on `MM_PLUGIN_PARENT_FD`) stop it: NOT_SERVING, calls
   in progress get `STOP_GRACE` seconds (go-plugin kills the process 2 s
   after asking), the API channels close, the process exits with status 0.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, TypeAlias, TypeVar

import grpc
import grpc.aio

from ._dispatch import Dispatcher
from ._goplugin import APP_PROTOCOL_VERSION, GoPluginServices, handshake_line
from ._logging import StreamToLog, configure, parse_level
from ._transport import DEFAULT_TIMEOUT, TOKEN_HEADER, server_options

if TYPE_CHECKING:
    from .hooks import Plugin

__all__ = ["COOKIE_KEY", "COOKIE_VALUE", "STOP_GRACE", "Settings", "run", "serve"]

_P = TypeVar("_P", bound="Plugin")

COOKIE_KEY = "MATTERMOST_PLUGIN"
"""The variable of go-plugin's magic cookie (Mattermost's HandshakeConfig)."""
COOKIE_VALUE = "Securely message teams, anywhere."
"""Its value."""

STOP_GRACE = 1.0
"""Seconds calls in progress get when the process stops."""

DEFAULT_HOOK_TIMEOUT = 30.0
"""Seconds a hook may take unless MM_PLUGIN_HOOK_TIMEOUT says otherwise."""

NOT_STARTED_BY_SERVER = (
    "This program is a Mattermost server plugin. It cannot run on its own: the "
    "Mattermost server starts it (go-plugin's magic cookie, {key}, is {state})."
)


@dataclass(frozen=True)
class Settings:
    """What the launcher tells the plugin process, from its environment.

    | variable | field |
    |---|---|
    | `MATTERMOST_PLUGIN` | go-plugin's magic cookie, checked |
    | `MM_PLUGIN_API_ADDRESS` | `api_address` (`host:port`, required) |
    | `MM_PLUGIN_API_TOKEN` | `api_token` (None when unset or empty) |
    | `MM_PLUGIN_ID` | `plugin_id` (required) |
    | `MM_PLUGIN_LOG_LEVEL` | `log_level`: trace, debug, info (default), warn, error |
    | `MM_PLUGIN_HOOK_TIMEOUT` | `hook_timeout`: seconds, > 0 (default 30) |
    | `MM_PLUGIN_PARENT_FD` | `parent_fd`: a pipe that ends with the launcher (None when unset) |

    go-plugin's `PLUGIN_PROTOCOL_VERSIONS`, when set, must include 1;
    `PLUGIN_CLIENT_CERT` (automatic mTLS) is not supported.
    """

    api_address: str
    plugin_id: str
    api_token: str | None = None
    log_level: str = "info"
    hook_timeout: float = DEFAULT_HOOK_TIMEOUT
    parent_fd: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in `environ` (default: `os.environ`). Anything wrong
        raises `SystemExit` with a message, which Python prints to stderr
        before exiting with status 1."""
        env = os.environ if environ is None else environ
        cookie = env.get(COOKIE_KEY)
        if cookie != COOKIE_VALUE:
            state = "not set" if cookie is None else "wrong"
            raise SystemExit(NOT_STARTED_BY_SERVER.format(key=COOKIE_KEY, state=state))
        versions = env.get("PLUGIN_PROTOCOL_VERSIONS", "").strip()
        if versions and str(APP_PROTOCOL_VERSION) not in [v.strip() for v in versions.split(",")]:
            raise SystemExit(
                f"mattermost_plugin: the server asks for plugin protocol versions {versions}; "
                f"this plugin speaks version {APP_PROTOCOL_VERSION}"
            )
        if env.get("PLUGIN_CLIENT_CERT"):
            raise SystemExit(
                "mattermost_plugin: the server asks for automatic mTLS "
                "(PLUGIN_CLIENT_CERT), which Python plugins do not support"
            )
        address = env.get("MM_PLUGIN_API_ADDRESS", "").strip()
        if not address:
            raise SystemExit("mattermost_plugin: MM_PLUGIN_API_ADDRESS is not set")
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SystemExit(
                f"mattermost_plugin: MM_PLUGIN_API_ADDRESS must be host:port, not {address!r}"
            )
        plugin_id = env.get("MM_PLUGIN_ID", "").strip()
        if not plugin_id:
            raise SystemExit("mattermost_plugin: MM_PLUGIN_ID is not set")
        level = env.get("MM_PLUGIN_LOG_LEVEL", "").strip() or "info"
        try:
            parse_level(level)
        except ValueError as exc:
            raise SystemExit(f"mattermost_plugin: MM_PLUGIN_LOG_LEVEL: {exc}") from None
        raw_timeout = env.get("MM_PLUGIN_HOOK_TIMEOUT", "").strip()
        timeout = DEFAULT_HOOK_TIMEOUT
        if raw_timeout:
            try:
                timeout = float(raw_timeout)
            except ValueError:
                timeout = math.nan
            if not math.isfinite(timeout) or timeout <= 0:
                raise SystemExit(
                    "mattermost_plugin: MM_PLUGIN_HOOK_TIMEOUT must be a positive number "
                    f"of seconds, not {raw_timeout!r}"
                )
        raw_fd = env.get("MM_PLUGIN_PARENT_FD", "").strip()
        if raw_fd and not raw_fd.isdigit():
            raise SystemExit(
                f"mattermost_plugin: MM_PLUGIN_PARENT_FD must be a file descriptor, not {raw_fd!r}"
            )
        return cls(
            api_address=address,
            plugin_id=plugin_id,
            api_token=env.get("MM_PLUGIN_API_TOKEN") or None,
            log_level=level.lower(),
            hook_timeout=timeout,
            parent_fd=int(raw_fd) if raw_fd else None,
        )


Setup: TypeAlias = "Callable[[grpc.aio.Server, Dispatcher], Awaitable[None] | None]"
"""What `_serve` calls to add the hooks service (and build the plugin)."""


async def _serve(
    settings: Settings,
    setup: Setup,
    *,
    logger: logging.Logger | None = None,
    handshake_out: IO[str] | None = None,
    handle_signals: bool = True,
    redirect_stdout: bool = True,
) -> None:
    """The process without the plugin: `setup(server, dispatcher)` adds the
    hooks service (and may build the plugin; stdout is already redirected
    then; an exception is logged and exits with status 1). Serves until a
    signal or the controller's Shutdown, then stops gracefully. The
    handshake goes to `handshake_out` (the real stdout)."""
    log = logger or logging.getLogger("mattermost_plugin")
    loop = asyncio.get_running_loop()
    out = handshake_out if handshake_out is not None else sys.stdout
    saved_stdout = sys.stdout
    if redirect_stdout:
        sys.stdout = StreamToLog(logging.getLogger("stdout"))
    stop = asyncio.Event()
    dispatcher = Dispatcher(settings.hook_timeout, logger=log)
    services = GoPluginServices(on_shutdown=stop.set)
    interceptors = [_RequireToken(settings.api_token)] if settings.api_token else []
    server = grpc.aio.server(options=server_options(), interceptors=interceptors)
    saved_fd: int | None = None
    watched: int | None = None
    handled: list[signal.Signals] = []
    try:
        services.register(server)
        try:
            pending = setup(server, dispatcher)
            if pending is not None:
                await pending
        except Exception:
            log.exception("the plugin could not start")
            raise SystemExit(1) from None
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        await services.serving()
        out.write(handshake_line(port) + "\n")
        out.flush()
        if redirect_stdout and out is saved_stdout:
            # Output of C code and child processes on fd 1 goes to stderr too.
            try:
                saved_fd = os.dup(1)
                os.dup2(2, 1)
            except OSError:
                saved_fd = None
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                try:
                    loop.add_signal_handler(sig, stop.set)
                    handled.append(sig)
                except (NotImplementedError, RuntimeError, ValueError):
                    pass
        if settings.parent_fd is not None:
            watched = _watch_parent(loop, settings.parent_fd, stop, log)
        log.debug("serving on 127.0.0.1:%d", port)
        await stop.wait()
        log.debug("stopping")
        await services.stopping()
        await server.stop(STOP_GRACE)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        if watched is not None:
            loop.remove_reader(watched)
        dispatcher.shutdown()
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
        if redirect_stdout:
            sys.stdout = saved_stdout
        await server.stop(None)


def _watch_parent(
    loop: asyncio.AbstractEventLoop, fd: int, stop: asyncio.Event, log: logging.Logger
) -> int | None:
    """Sets `stop` when the launcher's end of the pipe `fd` closes, which
    happens when the launcher's process ends however it ends: the plugin
    must not outlive it. Returns the watched descriptor, or None when it
    cannot be watched (logged)."""

    def readable() -> None:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            log.warning("the process that started the plugin has ended; stopping")
            stop.set()

    try:
        os.set_inheritable(fd, False)
        os.set_blocking(fd, False)
        loop.add_reader(fd, readable)
    except (OSError, NotImplementedError, ValueError) as exc:
        log.warning("cannot watch the launcher's pipe (fd %d): %s", fd, exc)
        return None
    return fd


# go-plugin's own services, which the host may call without the token.
_HOST_SERVICES = ("/grpc.health.v1.Health/", "/plugin.GRPCController/", "/plugin.GRPCStdio/")


if TYPE_CHECKING:
    _Interceptor = grpc.aio.ServerInterceptor[Any, Any]
else:
    _Interceptor = grpc.aio.ServerInterceptor


class _RequireToken(_Interceptor):
    """Refuses hook calls that do not carry the process's token (the Go
    launcher sends it on every call), so that other local processes cannot
    call the plugin's port."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(_HOST_SERVICES):
            return handler
        sent = b""
        for key, value in handler_call_details.invocation_metadata or ():
            if key == TOKEN_HEADER:
                sent = value.encode() if isinstance(value, str) else value
        if hmac.compare_digest(sent, self._token):
            return handler
        return _refusal(handler)


def _refusal(handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler of the same streaming kind as `handler` that refuses the call."""

    async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong plugin token")

    kinds = (handler.request_streaming, handler.response_streaming)
    if kinds == (False, False):
        return grpc.unary_unary_rpc_method_handler(refuse)
    if kinds == (True, False):
        return grpc.stream_unary_rpc_method_handler(refuse)
    if kinds == (False, True):
        return grpc.unary_stream_rpc_method_handler(refuse)
    return grpc.stream_stream_rpc_method_handler(refuse)


def _build_plugin(
    plugin_class: type[_P], *, api: Any, async_api: Any, plugin_id: str, logger: logging.Logger
) -> _P:
    """An instance whose `api`, `async_api`, `plugin_id` and `logger` are
    set before its `__init__` runs (which takes no arguments)."""
    plugin = plugin_class.__new__(plugin_class)
    plugin.api = api
    plugin.async_api = async_api
    plugin.plugin_id = plugin_id
    plugin.logger = logger
    plugin_class.__init__(plugin)
    return plugin


async def serve(plugin_class: type[Plugin]) -> None:
    """Runs the plugin process in the running event loop until it is asked
    to stop (see the module documentation). Reads `os.environ`."""
    settings = Settings.from_env()
    logger = configure(settings.log_level)
    from ._servicer import register
    from .client import AsyncPluginAPI, PluginAPI

    clients: list[Any] = []

    async def setup(server: grpc.aio.Server, dispatcher: Dispatcher) -> None:
        api = PluginAPI.connect(
            settings.api_address, timeout=DEFAULT_TIMEOUT, token=settings.api_token
        )
        clients.append(api)
        async_api = AsyncPluginAPI.connect(
            settings.api_address, timeout=DEFAULT_TIMEOUT, token=settings.api_token
        )
        clients.append(async_api)
        plugin = _build_plugin(
            plugin_class,
            api=api,
            async_api=async_api,
            plugin_id=settings.plugin_id,
            logger=logger,
        )
        register(server, plugin, dispatcher)

    try:
        await _serve(settings, setup, logger=logging.getLogger("mattermost_plugin"))
    finally:
        for client in clients:
            closed = client.close()
            if closed is not None:
                await closed


def run(plugin_class: type[Plugin]) -> None:
    """Runs the plugin process until the server stops it; the whole `main` of
    a plugin: `if __name__ == "__main__": run(MyPlugin)`. Returns (exit
    status 0) after a graceful stop."""
    asyncio.run(serve(plugin_class))
    _exit_if_stuck()


def _exit_if_stuck(wait: float = STOP_GRACE) -> None:
    """Ends the process at once when hook threads are still busy after the
    stop (a `def` handler that does not return): Python would otherwise wait
    for them forever at exit."""
    busy = [
        t
        for t in threading.enumerate()
        if t.name.startswith("mattermost-plugin-hook") and t.is_alive()
    ]
    for thread in busy:
        thread.join(wait / max(len(busy), 1))
    if any(t.is_alive() for t in busy):
        logging.getLogger("mattermost_plugin").warning(
            "hook handlers still running at exit; exiting without waiting for them"
        )
        logging.shutdown()
        sys.stderr.flush()
        os._exit(0)
