"""Go values as the generated SDK hands them to Python, read from the fixture
messages, and a comparison that says what differs and where.

The rules are those of design/python.md: messages as they are, optional
scalars None when unset, `Struct` as a dict, repeated `Value` (Go's `...any`)
as a list of plain values, JSON-carried messages (Config, License, SAML
assertion) as a dict, `io.Reader` content as bytes, repeated fields as lists,
maps as dicts."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from mattermost_plugin import Headers, _convert

__all__ = ["compare", "field_value", "is_json_carrier", "param_value", "short"]

_STRUCT = "google.protobuf.Struct"
_VALUE = "google.protobuf.Value"


def is_json_carrier(descriptor: Any) -> bool:
    """Whether a message carries a Go value as encoding/json bytes: its only
    field is `bytes json`."""
    fields = descriptor.fields
    return len(fields) == 1 and fields[0].name == "json" and fields[0].type == fields[0].TYPE_BYTES


def _is_map(fd: Any) -> bool:
    return fd.message_type is not None and bool(fd.message_type.GetOptions().map_entry)


def field_value(
    message: Message, name: str, go_type: str, *, none_message: bool, none_json: bool
) -> Any:
    """The Python value of field `name` of `message`, which carries a Go value
    of type `go_type`. An unset field is None when it has presence and is a
    scalar, a message and `none_message`, or a JSON carrier and `none_json`;
    else an unset message is the empty message, and an unset Struct or JSON
    carrier the empty dict."""
    fd = message.DESCRIPTOR.fields_by_name[name]
    value = getattr(message, name)
    if go_type == "io.Reader":
        return bytes(value)
    if _is_map(fd):
        return dict(value)
    if fd.is_repeated:
        if fd.message_type is not None and fd.message_type.full_name == _VALUE:
            return [_convert.from_value(v) for v in value]
        return list(value)
    unset = fd.has_presence and not message.HasField(name)
    if fd.message_type is not None:
        if fd.message_type.full_name == _STRUCT:
            return _convert.from_struct(value)
        if is_json_carrier(fd.message_type):
            return None if unset and none_json else _convert.from_json(value)
        return None if unset and none_message else value
    return None if unset else value


def param_value(message: Message, name: str, go_type: str) -> Any:
    """The value of a Go parameter, as a caller passes it to the SDK: None
    for a nil pointer (an unset message or JSON carrier, an unset optional
    scalar); a nil map (Struct) is an empty dict, which Go takes alike."""
    return field_value(message, name, go_type, none_message=True, none_json=True)


def short(value: object, limit: int = 160) -> str:
    """A bounded repr, on one line."""
    if isinstance(value, Message):
        text = f"{value.DESCRIPTOR.name}({str(value).strip()})".replace("\n", " ")
    elif isinstance(value, (bytes, bytearray)) and len(value) > 32:
        text = f"<{len(value)} bytes {bytes(value[:16])!r}...>"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def compare(expected: object, got: object, path: str) -> list[str]:
    """The differences between `expected` and `got`, one line each (at most
    20): types must match exactly (a list is no tuple, an int no float),
    messages are compared field by field."""
    out: list[str] = []
    _compare(expected, got, path, out)
    return out


def _compare(expected: object, got: object, path: str, out: list[str]) -> None:
    if len(out) >= 20:
        return
    if isinstance(expected, Message):
        _compare_message(expected, got, path, out)
        return
    if isinstance(expected, Headers):
        if not isinstance(got, Headers) or expected != got:
            out.append(f"{path}: expected headers {expected.items()}, got {short(got)}")
        return
    if type(expected) is not type(got):
        out.append(
            f"{path}: expected {type(expected).__name__} {short(expected)}, "
            f"got {type(got).__name__} {short(got)}"
        )
        return
    if isinstance(expected, dict):
        assert isinstance(got, dict)
        for key in expected.keys() - got.keys():
            out.append(f"{path}[{key!r}]: missing")
        for key in got.keys() - expected.keys():
            out.append(f"{path}[{key!r}]: unexpected")
        for key in expected.keys() & got.keys():
            _compare(expected[key], got[key], f"{path}[{key!r}]", out)
        return
    if isinstance(expected, (list, tuple)):
        assert isinstance(got, (list, tuple))
        if len(expected) != len(got):
            out.append(f"{path}: expected {len(expected)} items, got {len(got)}")
            return
        for i, (e, g) in enumerate(zip(expected, got)):
            _compare(e, g, f"{path}[{i}]", out)
        return
    if isinstance(expected, bytes):
        assert isinstance(got, bytes)
        if expected != got:
            at = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), None)
            out.append(
                f"{path}: expected {len(expected)} bytes, got {len(got)}"
                + (f", first difference at offset {at}" if at is not None else "")
            )
        return
    if expected != got:
        out.append(f"{path}: expected {short(expected)}, got {short(got)}")


def _compare_message(expected: Message, got: object, path: str, out: list[str]) -> None:
    name = expected.DESCRIPTOR.full_name
    if not isinstance(got, Message) or got.DESCRIPTOR.full_name != name:
        out.append(f"{path}: expected a {name}, got {type(got).__name__} {short(got)}")
        return
    if expected == got:
        return
    before = len(out)
    names = sorted(
        {fd.name for fd, _ in expected.ListFields()} | {fd.name for fd, _ in got.ListFields()}
    )
    for field in names:
        fd = expected.DESCRIPTOR.fields_by_name[field]
        e, g = getattr(expected, field), getattr(got, field)
        where = f"{path}.{field}"
        if _is_map(fd):
            _compare(dict(e), dict(g), where, out)
        elif fd.is_repeated:
            _compare(list(e), list(g), where, out)
        elif fd.has_presence and expected.HasField(field) != got.HasField(field):
            out.append(
                f"{where}: expected {'set' if expected.HasField(field) else 'unset'}, "
                f"got {'set' if got.HasField(field) else 'unset'} {short(g)}"
            )
        else:
            _compare(e, g, where, out)
    if len(out) == before:
        out.append(f"{path}: the messages differ: expected {short(expected)}, got {short(got)}")
