"""The one error convention of the bridge, on the Python side.

Every failure a plugin sees is a `PluginAPIError`: an application error of
the server (the AppError of a response, every field kept) or a failure on the
way (a gRPC status, mapped into the same hierarchy by the HTTP status code it
stands for, with `grpc_code` set). The subclass is chosen by the status code:

| status | class |
|---|---|
| 400 | `ValidationError` |
| 401 | `UnauthorizedError` |
| 403 | `PermissionDeniedError` |
| 404 | `NotFoundError` |
| 409 | `ConflictError` |
| 413 | `PayloadTooLargeError` |
| 429 | `RateLimitedError` |
| 500 and any other code | `InternalError` |
| 501 | `UnsupportedError` |
| 502, 503 | `UnavailableError` |
| 504 | `DeadlineExceededError` |

The other direction, for hooks whose Go result includes an error: a raised
exception becomes the AppError of the hook's response (`to_app_error`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import grpc

from ._convert import from_struct, to_struct
from .pb.mattermost.plugin.v1 import common_pb2

__all__ = [
    "ConflictError",
    "DeadlineExceededError",
    "InternalError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PluginAPIError",
    "RateLimitedError",
    "UnauthorizedError",
    "UnavailableError",
    "UnsupportedError",
    "ValidationError",
    "error_class",
    "error_from_app_error",
    "error_from_rpc_error",
    "to_app_error",
]


class PluginAPIError(Exception):
    """An error of the Mattermost server or of the bridge, with every field
    of the server's AppError.

    Raise one (or a subclass) from a hook whose Go result includes an error to
    give the server exactly that AppError. Constructed without a status code,
    an error takes its class's (`InternalError`: 500, `NotFoundError`: 404...).
    """

    default_status: ClassVar[int] = 500
    """The status code of an error of this class built without one."""

    id: str
    """A stable identifier of the error kind, e.g. "app.user.get.app_error"."""
    message: str
    """The message for end users."""
    detailed_error: str
    """Debugging detail for developers."""
    request_id: str
    """The request that failed, when known."""
    status_code: int
    """The HTTP status code the error maps to."""
    where: str
    """The function that raised the error (Go: `Struct.Func`)."""
    params: dict[str, Any]
    """The translation parameters of the message."""
    grpc_code: grpc.StatusCode | None
    """The gRPC status of a failed call (a transport failure); None for an
    error the server reported."""

    def __init__(
        self,
        message: str = "",
        *,
        id: str = "",
        detailed_error: str = "",
        request_id: str = "",
        status_code: int | None = None,
        where: str = "",
        params: Mapping[str, Any] | None = None,
        grpc_code: grpc.StatusCode | None = None,
    ) -> None:
        super().__init__(message)
        self.id = id
        self.message = message
        self.detailed_error = detailed_error
        self.request_id = request_id
        self.status_code = self.default_status if status_code is None else status_code
        self.where = where
        self.params = dict(params) if params else {}
        self.grpc_code = grpc_code

    def __str__(self) -> str:
        text = self.message or self.id or type(self).__name__
        details = []
        if self.id and self.id != text:
            details.append(self.id)
        details.append(f"status {self.status_code}")
        if self.where:
            details.append(f"in {self.where}")
        if self.request_id:
            details.append(f"request {self.request_id}")
        if self.grpc_code is not None:
            details.append(f"gRPC {self.grpc_code.name}")
        text = f"{text} [{', '.join(details)}]"
        if self.detailed_error and self.detailed_error != self.message:
            text = f"{text}: {self.detailed_error}"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, id={self.id!r}, "
            f"status_code={self.status_code!r}, where={self.where!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception pickles its positional args only; keep every field.
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[PluginAPIError], message: str, state: dict[str, Any]) -> PluginAPIError:
    error = cls(message)
    error.__dict__.update(state)
    return error


class ValidationError(PluginAPIError):
    """400: the request was invalid."""

    default_status = 400


class UnauthorizedError(PluginAPIError):
    """401: the caller is not authenticated (for the bridge: a missing or
    wrong token)."""

    default_status = 401


class PermissionDeniedError(PluginAPIError):
    """403: the caller may not do this."""

    default_status = 403


class NotFoundError(PluginAPIError):
    """404: the object does not exist."""

    default_status = 404


class ConflictError(PluginAPIError):
    """409: the object exists already, or changed meanwhile."""

    default_status = 409


class PayloadTooLargeError(PluginAPIError):
    """413: the request (or a message of the bridge) is too large."""

    default_status = 413


class RateLimitedError(PluginAPIError):
    """429: too many requests."""

    default_status = 429


class InternalError(PluginAPIError):
    """500, and any status code without a class of its own."""

    default_status = 500


class UnsupportedError(PluginAPIError):
    """501: the server (or the bridge) does not implement this."""

    default_status = 501


class UnavailableError(PluginAPIError):
    """502, 503: the server, or the bridge to it, cannot be reached."""

    default_status = 503


class DeadlineExceededError(PluginAPIError):
    """504: the call ran out of time."""

    default_status = 504


_BY_STATUS: dict[int, type[PluginAPIError]] = {
    400: ValidationError,
    401: UnauthorizedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
    500: InternalError,
    501: UnsupportedError,
    502: UnavailableError,
    503: UnavailableError,
    504: DeadlineExceededError,
}

# The HTTP status a failed call's gRPC code stands for.
_GRPC_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 413,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


def error_class(status_code: int) -> type[PluginAPIError]:
    """The class of an error with this status code (`InternalError` for a
    code without a class of its own)."""
    return _BY_STATUS.get(status_code, InternalError)


def error_from_app_error(app_error: common_pb2.AppError) -> PluginAPIError:
    """The exception for an AppError the server sent, every field kept.

    A plain Go error crosses as an AppError with a message only (no id, status
    0); it becomes an `InternalError` with status code 0.
    """
    params = from_struct(app_error.params) if app_error.HasField("params") else {}
    status = int(app_error.status_code)
    return error_class(status)(
        app_error.message,
        id=app_error.id,
        detailed_error=app_error.detailed_error,
        request_id=app_error.request_id,
        status_code=status,
        where=app_error.where,
        params=params,
    )


def error_from_rpc_error(
    err: grpc.RpcError, method: str, expires: float | None = None
) -> PluginAPIError:
    """The exception for a call to `method` that failed with a gRPC status:
    the class of the HTTP status the code stands for (UNAVAILABLE: 503,
    DEADLINE_EXCEEDED: 504, RESOURCE_EXHAUSTED (a message over the size
    limit): 413, CANCELLED and unknown codes: 500...), with id
    `plugin.python.transport.<code>`, `where` the method, and `grpc_code` set.

    `expires` is the call's deadline (`time.monotonic()` seconds): a call
    CANCELLED once it has passed ran out of time (the server cancels the
    stream when its copy of the deadline fires, which may arrive before the
    client's own timer does), so it is DEADLINE_EXCEEDED."""
    code = _rpc_code(err)
    if (
        code == grpc.StatusCode.CANCELLED
        and expires is not None
        and time.monotonic() >= expires - _CLOCK_SLACK
    ):
        code = grpc.StatusCode.DEADLINE_EXCEEDED
    details = _rpc_details(err)
    status = _GRPC_STATUS.get(code, 500)
    message = f"{method}: the call failed with gRPC status {code.name}"
    if details:
        message = f"{message}: {details}"
    return error_class(status)(
        message,
        id=f"plugin.python.transport.{code.name.lower()}",
        detailed_error=details,
        status_code=status,
        where=method,
        grpc_code=code,
    )


# How far before its own deadline a cancelled call counts as timed out: the
# server's copy of the deadline starts later than the client's, never before.
_CLOCK_SLACK = 0.005


def _rpc_code(err: grpc.RpcError) -> grpc.StatusCode:
    code = getattr(err, "code", None)
    if callable(code):
        value = code()
        if isinstance(value, grpc.StatusCode):
            return value
    return grpc.StatusCode.UNKNOWN


def _rpc_details(err: grpc.RpcError) -> str:
    details = getattr(err, "details", None)
    if callable(details):
        value = details()
        if isinstance(value, str):
            return value
    return str(err)


def to_app_error(exc: BaseException, hook: str) -> common_pb2.AppError:
    """The AppError a hook answers for an exception its handler raised.

    A `PluginAPIError` keeps its fields (`where` defaults to the hook name);
    any other exception becomes status 500, id
    `plugin.python.<hook in snake_case>.error`, its text (or its class name
    when it has none) as message, its class as detailed error.
    """
    if isinstance(exc, PluginAPIError):
        error = common_pb2.AppError(
            id=exc.id,
            message=exc.message,
            detailed_error=exc.detailed_error,
            request_id=exc.request_id,
            status_code=exc.status_code,
            where=exc.where or hook,
        )
        if exc.params:
            error.params.CopyFrom(_params_struct(exc.params))
        return error
    cls = type(exc)
    return common_pb2.AppError(
        id=f"plugin.python.{snake_case(hook)}.error",
        message=str(exc) or cls.__name__,
        detailed_error=f"{cls.__module__}.{cls.__qualname__}",
        status_code=500,
        where=hook,
    )


def _params_struct(params: Mapping[str, Any]) -> Any:
    try:
        return to_struct(params)
    except (TypeError, ValueError):
        # Not JSON-like: keep the parameters as text rather than lose them.
        return to_struct({str(k): _jsonable(v) for k, v in params.items()})


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD = re.compile(r"([a-z0-9])([A-Z])")


def snake_case(name: str) -> str:
    """A Go name in snake case: "ServeHTTP" -> "serve_http",
    "OnSAMLLogin" -> "on_saml_login"."""
    return _WORD.sub(r"\1_\2", _ACRONYM.sub(r"\1_\2", name)).lower()
