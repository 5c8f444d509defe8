"""The fixture file the Go suite writes ($XLANG_FIXTURES): per API method and
per hook case, the proto encodings of a Go-to-Go call through the bridge
(streams merged into one message) and the Go signature from
`mm-bindgen list --json`; and the failing API calls of the error tests."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

# The message modules register their descriptors when imported.
from mattermost_plugin.pb.mattermost.plugin.v1 import plugin_api_pb2, plugin_hooks_pb2

__all__ = [
    "ErrorFixture",
    "Fixtures",
    "GoValue",
    "HookFixture",
    "MethodFixture",
    "parse",
]

_MODULES = (plugin_api_pb2, plugin_hooks_pb2)


def parse(type_name: str, data: bytes) -> Message:
    """The message of full name `type_name` encoded in `data`."""
    descriptor = descriptor_pool.Default().FindMessageTypeByName(type_name)
    message = message_factory.GetMessageClass(descriptor)()
    message.ParseFromString(data)
    return message


@dataclass(frozen=True)
class GoValue:
    """A Go parameter or result and the proto field that carries it."""

    name: str
    go_type: str
    role: str  # param, output, result, error
    field: str

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> GoValue:
        return cls(value["name"], value["go_type"], value["role"], value["field"])


def _values(values: list[dict[str, Any]] | None) -> list[GoValue]:
    return [GoValue.from_json(v) for v in values or []]


@dataclass(frozen=True)
class MethodFixture:
    """One API method."""

    request_type: str
    response_type: str
    params: list[GoValue]
    results: list[GoValue]
    request_data: bytes
    response_data: bytes

    def request(self) -> Message:
        return parse(self.request_type, self.request_data)

    def response(self) -> Message:
        return parse(self.response_type, self.response_data)


@dataclass(frozen=True)
class HookFixture:
    """One hook and the messages of its cases."""

    request_type: str
    response_type: str
    params: list[GoValue]
    results: list[GoValue]
    cases: dict[str, tuple[bytes, bytes]]

    def messages(self, case: str) -> tuple[Message, Message]:
        request, response = self.cases[case]
        return parse(self.request_type, request), parse(self.response_type, response)


@dataclass(frozen=True)
class ErrorFixture:
    """A failing API call and the exception it must raise; None: not checked."""

    method: str
    args: list[str]
    timeout: float | None
    token: str
    address: str
    error_class: str
    status_code: int
    fields: dict[str, Any] = field(default_factory=dict)
    message_prefix: str | None = None
    grpc_code: str | None = None


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


class Fixtures:
    """The whole file."""

    def __init__(self, data: dict[str, Any]) -> None:
        # "api": filled values; "api_zero": zero values.
        self.api_sets = {
            key: {
                name: MethodFixture(
                    v["request_type"],
                    v["response_type"],
                    _values(v["params"]),
                    _values(v["results"]),
                    _b64(v["request"]),
                    _b64(v["response"]),
                )
                for name, v in data[key].items()
            }
            for key in ("api", "api_zero")
        }
        self.hooks = {
            name: HookFixture(
                v["request_type"],
                v["response_type"],
                _values(v["params"]),
                _values(v["results"]),
                {
                    case: (_b64(pair["request"]), _b64(pair["response"]))
                    for case, pair in (v["cases"] or {}).items()
                },
            )
            for name, v in data["hooks"].items()
        }
        self.errors = {name: _error(v) for name, v in data["errors"].items()}

    @classmethod
    def load(cls, path: str) -> Fixtures:
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))


def _error(v: dict[str, Any]) -> ErrorFixture:
    checked = ("id", "message", "detailed_error", "request_id", "where", "params")
    return ErrorFixture(
        method=v["method"],
        args=list(v["args"] or []),
        timeout=v.get("timeout") or None,
        token=v["token"],
        address=v.get("address") or "",
        error_class=v["class"],
        status_code=v["status_code"],
        fields={name: v[name] for name in checked if v.get(name) is not None},
        message_prefix=v.get("message_prefix"),
        grpc_code=v.get("grpc_code"),
    )


class LazyFixtures:
    """The fixtures of $XLANG_FIXTURES, read on first use (the Go suite
    writes the file while the plugin starts)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._fixtures: Fixtures | None = None

    def get(self) -> Fixtures:
        with self._lock:
            if self._fixtures is None:
                self._fixtures = Fixtures.load(self._path)
            return self._fixtures
