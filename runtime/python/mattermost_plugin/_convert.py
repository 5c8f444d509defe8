"""Conversions between plain Python values and the messages that carry them:
`google.protobuf.Struct` and `Value` for Go's `map[string]any` and `any`,
and the JSON-carried types (Go values sent as encoding/json bytes)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar, cast

from google.protobuf import json_format, struct_pb2


class _JsonMessage(Protocol):
    json: bytes

    def __init__(self, *, json: bytes | None = ...) -> None: ...


_M = TypeVar("_M", bound=_JsonMessage)


def to_struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    """A `Struct` holding a JSON-like mapping."""
    message = struct_pb2.Struct()
    message.update(value)
    return message


def from_struct(message: struct_pb2.Struct) -> dict[str, Any]:
    """The mapping a `Struct` holds."""
    result: dict[str, Any] = json_format.MessageToDict(message)
    return result


def to_value(value: object) -> struct_pb2.Value:
    """A `Value` holding a JSON-like value (None, bool, number, str, list, dict)."""
    message = struct_pb2.Value()
    json_format.ParseDict(cast(Any, value), message)
    return message


def from_value(message: struct_pb2.Value) -> Any:
    """The plain value a `Value` holds."""
    return json_format.MessageToDict(message)


def to_values(values: Iterable[object]) -> list[struct_pb2.Value]:
    """`Value`s of Go's variadic `...any` (alternating keys and values for logs)."""
    return [to_value(v) for v in values]


def to_json(message_type: type[_M], value: Mapping[str, Any] | None) -> _M | None:
    """The message carrying `value` as JSON; None (Go nil) leaves it unset."""
    if value is None:
        return None
    return message_type(json=json.dumps(value, separators=(",", ":")).encode())


def from_json(message: _JsonMessage) -> dict[str, Any]:
    """The value a JSON-carrying message holds; an unset one is empty."""
    if not message.json:
        return {}
    value = json.loads(message.json)
    return value if isinstance(value, dict) else {}
