"""The API side of the full plugin: call a generated client method with the
arguments of its fixture and compare the result with the fixture's
response; the error, nil-versus-empty and token checks."""

from __future__ import annotations

import asyncio
import inspect
import io
import keyword
import os
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from google.protobuf.message import Message

import mattermost_plugin
from mattermost_plugin import AsyncPluginAPI, Headers, HTTPRequest, PluginAPI, PluginAPIError
from mattermost_plugin.errors import snake_case

from .fixtures import ErrorFixture, GoValue, LazyFixtures, MethodFixture
from .values import compare, field_value, param_value, short

__all__ = ["ApiChecks", "python_name"]

_T = TypeVar("_T")

CALL_TIMEOUT = 60.0
"""Seconds an async call scheduled from a hook thread may take."""


def python_name(go_name: str) -> str:
    """A Go name as the SDK spells it: snake case, a Python keyword with a
    trailing underscore."""
    name = snake_case(go_name)
    return name + "_" if keyword.iskeyword(name) else name


def _pieces(data: bytes, size: int = 50_000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def byte_source(data: bytes, kind: str) -> object:
    """The content of an `io.Reader` parameter as a caller may give it: a
    binary file object (sync client), an iterator of odd-sized pieces (async
    client); empty content as bytes."""
    if not data:
        return data
    return io.BytesIO(data) if kind == "sync" else _pieces(data)


def bind(
    fn: Callable[..., Any], params: list[GoValue], request: Message, kind: str = "sync"
) -> tuple[list[Any], dict[str, Any], list[str]]:
    """The arguments of a call of client method `fn` carrying the Go
    parameters `params` as `request` holds them: positional parameters in Go
    order, keyword-only ones by name, a variadic one spread, a byte stream
    as `byte_source` gives it for `kind`. Problems with the signature come
    back as text."""
    parameters = {
        name: p for name, p in inspect.signature(fn).parameters.items() if name != "timeout"
    }
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    problems: list[str] = []
    seen: list[str] = []
    for go in params:
        if go.role != "param":
            continue
        name = python_name(go.name)
        p = parameters.get(name)
        if p is None:
            problems.append(
                f"the client method has no parameter {name} for the Go parameter {go.name} "
                f"(it has {list(parameters)})"
            )
            continue
        seen.append(name)
        value = param_value(request, go.field, go.go_type)
        if go.go_type == "io.Reader":
            value = byte_source(value, kind)
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(value)
        elif p.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[name] = value
        elif p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            if kwargs:
                problems.append(f"{name}: a positional parameter after keyword-only ones")
            args.append(value)
        else:
            problems.append(f"{name}: unexpected kind of parameter {p.kind}")
    positional = [
        n for n, p in parameters.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    if [n for n in seen if n in positional] != positional:
        problems.append(f"the positional parameters {positional} are not in Go order {seen}")
    extra = [n for n in parameters if n not in seen]
    if extra:
        problems.append(f"the client method has parameters no Go parameter carries: {extra}")
    return args, kwargs, problems


def expected_result(method: str, fx: MethodFixture, response: Message) -> tuple[Any, list[str]]:
    """What the client method must return for `response`: None, the value,
    or the NamedTuple's values (with its expected names). Output parameters
    (LoadPluginConfiguration's `dest`) come back as results."""
    values = [p for p in fx.params if p.role == "output"]
    values += [r for r in fx.results if r.role == "result"]
    has_error = any(r.role == "error" for r in fx.results)
    # A message result is the empty message when the method has an error
    # result, else None when unset (design/python.md); Struct and JSON results
    # are dicts.
    converted = [
        field_value(response, r.field, r.go_type, none_message=not has_error, none_json=False)
        for r in values
    ]
    if not values:
        return None, []
    if len(values) == 1:
        return converted[0], []
    return tuple(converted), [python_name(r.name) for r in values]


def check_result(method: str, fx: MethodFixture, response: Message, result: object) -> list[str]:
    expected, names = expected_result(method, fx, response)
    if not names:
        return compare(expected, result, "result")
    problems: list[str] = []
    if type(result).__name__ != f"{method}Result":
        problems.append(f"result: expected a {method}Result, got {type(result).__name__}")
    fields = getattr(result, "_fields", None)
    if fields != tuple(names):
        problems.append(f"result: expected the fields {tuple(names)}, got {fields}")
    if isinstance(result, tuple):
        problems += compare(expected, tuple(result), "result")
    return problems


async def _awaited(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


class ApiChecks:
    """The `/api`, `/apierr` and `/kv` commands of the full plugin, run in a
    hook thread: the blocking client directly, the asyncio one on the
    plugin's event loop."""

    def __init__(
        self,
        fixtures: LazyFixtures,
        api: PluginAPI,
        async_api: AsyncPluginAPI,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.fixtures = fixtures
        self.api_set = os.environ.get("XLANG_API_SET", "api")
        self.api = api
        self.async_api = async_api
        self.loop = loop

    def on_loop(self, coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(CALL_TIMEOUT)

    def call(self, method: str, kind: str) -> list[str]:
        """Calls `method` with the fixture's arguments through the `kind`
        ("sync" or "async") client and compares the result."""
        fx = self.fixtures.get().api_sets[self.api_set][method]
        request, response = fx.request(), fx.response()
        try:
            if method == "PluginHTTP":
                return self._plugin_http(request, response, kind)
            client: PluginAPI | AsyncPluginAPI = self.api if kind == "sync" else self.async_api
            fn = getattr(client, python_name(method))
            args, kwargs, problems = bind(fn, fx.params, request, kind)
            if problems:
                return problems
            if kind == "sync":
                result = fn(*args, **kwargs)
            else:
                result = self.on_loop(_awaited(fn(*args, **kwargs)))
            return check_result(method, fx, response, result)
        except Exception as exc:  # noqa: BLE001 - reported to Go
            return [f"the call raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}"]

    def _plugin_http(self, request: Any, response: Any, kind: str) -> list[str]:
        head: Any = request.request
        want: Any = response.response
        req = HTTPRequest(head.method, head.url, Headers.from_proto(head.headers), head.body)
        if kind == "sync":
            resp = self.api.plugin_http(req)
            with resp:
                body = resp.read()
        else:

            async def exchange() -> tuple[Any, bytes]:
                r = await self.async_api.plugin_http(req)
                async with r:
                    return r, await r.aread()

            resp, body = self.on_loop(exchange())
        problems = compare(want.status_code, resp.status_code, "status_code")
        problems += compare(Headers.from_proto(want.headers), resp.headers, "headers")
        problems += compare(bytes(want.body), body, "body")
        return problems

    def check_error(self, name: str, kind: str) -> list[str]:
        """Makes the failing call of error case `name` and checks the
        exception."""
        fx = self.fixtures.get().errors[name]
        own = bool(fx.token or fx.address)
        address = fx.address or os.environ["MM_PLUGIN_API_ADDRESS"]
        token = {"none": None, "wrong": "wrong-token"}.get(
            fx.token, os.environ.get("MM_PLUGIN_API_TOKEN")
        )
        kwargs: dict[str, Any] = {} if fx.timeout is None else {"timeout": fx.timeout}
        try:
            if kind == "sync":
                client = PluginAPI.connect(address, token=token) if own else self.api
                try:
                    result = getattr(client, python_name(fx.method))(*fx.args, **kwargs)
                finally:
                    if own:
                        client.close()
            else:

                async def call() -> object:
                    client = AsyncPluginAPI.connect(address, token=token) if own else self.async_api
                    try:
                        return await getattr(client, python_name(fx.method))(*fx.args, **kwargs)
                    finally:
                        if own:
                            await client.close()

                result = self.on_loop(call())
        except PluginAPIError as exc:
            return error_problems(fx, exc)
        except Exception as exc:  # noqa: BLE001 - reported to Go
            return [f"raised {type(exc).__name__}, not a PluginAPIError: {exc}"]
        return [f"no exception; the call returned {short(result)}"]

    def nil_and_empty(self, kind: str) -> list[str]:
        """KVGet of a missing key is None and of an empty value b""; KVSet
        sends None and b"" as Go sees them (checked in Go)."""

        async def run_async() -> tuple[bytes | None, bytes | None]:
            missing = await self.async_api.kv_get("xlang-missing")
            empty = await self.async_api.kv_get("xlang-empty")
            await self.async_api.kv_set("xlang-set-nil", None)
            await self.async_api.kv_set("xlang-set-empty", b"")
            return missing, empty

        if kind == "sync":
            missing = self.api.kv_get("xlang-missing")
            empty = self.api.kv_get("xlang-empty")
            self.api.kv_set("xlang-set-nil", None)
            self.api.kv_set("xlang-set-empty", b"")
        else:
            missing, empty = self.on_loop(run_async())
        return compare(None, missing, "kv_get(missing)") + compare(b"", empty, "kv_get(empty)")


def error_problems(fx: ErrorFixture, exc: PluginAPIError) -> list[str]:
    """How `exc` differs from the exception the case expects."""
    problems: list[str] = []
    if type(exc).__name__ != fx.error_class:
        problems.append(f"raised {type(exc).__name__}, expected {fx.error_class}: {exc}")
    cls = getattr(mattermost_plugin, fx.error_class, None)
    if not (isinstance(cls, type) and isinstance(exc, cls)):
        problems.append(f"{type(exc).__name__} is no mattermost_plugin.{fx.error_class}")
    if exc.status_code != fx.status_code:
        problems.append(f"status_code: expected {fx.status_code}, got {exc.status_code}")
    for name, want in fx.fields.items():
        got = getattr(exc, name)
        if got != want:
            problems.append(f"{name}: expected {want!r}, got {got!r}")
    if fx.message_prefix is not None and not exc.message.startswith(fx.message_prefix):
        problems.append(f"message: expected {fx.message_prefix!r}..., got {exc.message!r}")
    if fx.grpc_code is not None:
        got_code = exc.grpc_code.name if exc.grpc_code is not None else ""
        if got_code != fx.grpc_code:
            problems.append(f"grpc_code: expected {fx.grpc_code or None}, got {exc.grpc_code}")
    return problems
