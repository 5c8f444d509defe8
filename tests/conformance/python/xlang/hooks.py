"""The hook side of the full plugin: which fixture case a hook call must
match (`/case`), the comparison of what a handler received with it, the
answer the handler returns, and what went wrong (`/report`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mattermost_plugin import FileReplacement, Headers, HTTPRequest, Reject, ResponseWriter
from mattermost_plugin.errors import error_from_app_error

from .fixtures import HookFixture, LazyFixtures
from .values import compare, field_value

__all__ = ["HookCases"]


@dataclass
class _Pending:
    case: str
    used: bool = False
    problems: list[str] = field(default_factory=list)


class HookCases:
    """The case each hook's next call must match, and what was wrong."""

    def __init__(self, fixtures: LazyFixtures) -> None:
        self.fixtures = fixtures
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}

    def expect(self, hook: str, case: str) -> str:
        """`/case <hook> <case>`: the next call of `hook` is that case."""
        fx = self.fixtures.get().hooks.get(hook)
        if fx is None or case not in fx.cases:
            return f"no fixture for {hook} case {case}"
        with self._lock:
            self._pending[hook] = _Pending(case)
        return "ok"

    def report(self, hook: str) -> str:
        """`/report <hook>`: "ok", or what went wrong since `/case`."""
        with self._lock:
            pending = self._pending.pop(hook, None)
        if pending is None:
            return f"no /case for {hook}"
        if not pending.used:
            return f"{hook} was not called"
        return "\n".join(pending.problems) or "ok"

    def _take(self, hook: str) -> tuple[_Pending, HookFixture, Any, Any] | None:
        with self._lock:
            pending = self._pending.get(hook)
            if pending is None or pending.used:
                return None
            pending.used = True
        fx = self.fixtures.get().hooks[hook]
        request, response = fx.messages(pending.case)
        return pending, fx, request, response

    def _problem(self, pending: _Pending, problems: list[str]) -> None:
        with self._lock:
            pending.problems.extend(problems)

    def answer(self, hook: str, *args: object) -> Any:
        """Checks the arguments of a call of `hook` against its case and
        returns the case's answer (raising its AppError, if it has one)."""
        taken = self._take(hook)
        if taken is None:
            return None  # reported by /report as "not called"
        pending, fx, request, response = taken
        # The servicer hands messages over as they are, set or not, and
        # JSON carriers as dicts.
        expected = [
            field_value(request, p.field, p.go_type, none_message=False, none_json=False)
            for p in fx.params
            if p.role == "param"
        ]
        self._problem(pending, compare(expected, list(args), "arguments"))
        return _answer(fx, response)

    def upload(self, c: object, info: object, content: bytes) -> Any:
        """FileWillBeUploaded: as `answer`, the upload read whole."""
        return self.answer("FileWillBeUploaded", c, info, content)

    def serve(self, hook: str, c: object, w: ResponseWriter, r: HTTPRequest, body: bytes) -> bytes:
        """ServeHTTP, ServeMetrics: checks the request (its body read whole),
        sets the status and headers of the case's response and returns its
        body, for the handler to write (`write` or `awrite`)."""
        taken = self._take(hook)
        if taken is None:
            return b""
        pending, _, request, response = taken
        head: Any = request.request
        problems = compare(request.context, c, "context")
        got = {
            "method": r.method,
            "url": r.url,
            "headers": r.headers,
            "host": r.host,
            "remote_addr": r.remote_addr,
            "request_uri": r.request_uri,
            "proto": r.proto,
            "content_length": r.content_length,
            "body": body,
        }
        want = {
            "method": head.method,
            "url": head.url,
            "headers": Headers.from_proto(head.headers),
            "host": head.host,
            "remote_addr": head.remote_addr,
            "request_uri": head.request_uri,
            "proto": head.proto,
            "content_length": head.content_length,
            "body": bytes(head.body),
        }
        problems += compare(want, got, "request")
        self._problem(pending, problems)
        out: Any = response.response
        for name, value in Headers.from_proto(out.headers).items():
            w.headers.add(name, value)
        w.write_header(out.status_code)
        return bytes(out.body)


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _answer(fx: HookFixture, response: Any) -> Any:
    """The handler's answer that makes the SDK send `response`."""
    descriptor = response.DESCRIPTOR
    if "error" in descriptor.fields_by_name and response.HasField("error"):
        raise error_from_app_error(response.error)
    results = [r for r in fx.results if r.role == "result"]
    reason = next((r for r in results if r.field == "rejection_reason"), None)
    if reason is None:
        if not results:
            return None
        r = results[0]
        return field_value(response, r.field, r.go_type, none_message=True, none_json=True)
    if getattr(response, reason.field):
        return Reject(getattr(response, reason.field))
    others = [r for r in results if r is not reason]
    replacement = None
    if others and response.HasField(others[0].field):
        replacement = getattr(response, others[0].field)
    if "output" in descriptor.fields_by_name:  # FileWillBeUploaded
        output: bytes = response.output
        if output:
            # Odd-sized pieces: the SDK regroups them into 64 KiB chunks.
            return FileReplacement(info=replacement, content=_chunks(output, 50_000))
    return replacement
