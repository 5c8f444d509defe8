"""The error convention: AppErrors and gRPC statuses into one hierarchy, and
exceptions back into AppErrors."""

from __future__ import annotations

import pickle

import grpc
import grpc.aio
import pytest

from mattermost_plugin import errors
from mattermost_plugin.errors import (
    ConflictError,
    DeadlineExceededError,
    InternalError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PluginAPIError,
    RateLimitedError,
    UnauthorizedError,
    UnavailableError,
    UnsupportedError,
    ValidationError,
    error_from_app_error,
    error_from_rpc_error,
    to_app_error,
)
from mattermost_plugin.pb.mattermost.plugin.v1 import common_pb2

STATUS_CLASSES: list[tuple[int, type[PluginAPIError]]] = [
    (400, ValidationError),
    (401, UnauthorizedError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (413, PayloadTooLargeError),
    (429, RateLimitedError),
    (500, InternalError),
    (501, UnsupportedError),
    (502, UnavailableError),
    (503, UnavailableError),
    (504, DeadlineExceededError),
    (418, InternalError),
    (0, InternalError),
    (302, InternalError),
]


def app_error(status: int) -> common_pb2.AppError:
    error = common_pb2.AppError(
        id="app.thing.get.app_error",
        message="Unable to get the thing.",
        detailed_error="sql: no rows",
        request_id="req123",
        status_code=status,
        where="SqlThingStore.Get",
    )
    error.params.update({"Name": "x", "Count": 3, "Nested": {"a": [1, "b"]}})
    return error


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
def test_app_error_maps_to_the_class_of_its_status(status: int, cls: type[PluginAPIError]) -> None:
    exc = error_from_app_error(app_error(status))
    assert type(exc) is cls
    assert isinstance(exc, PluginAPIError)
    assert exc.id == "app.thing.get.app_error"
    assert exc.message == "Unable to get the thing."
    assert exc.detailed_error == "sql: no rows"
    assert exc.request_id == "req123"
    assert exc.status_code == status
    assert exc.where == "SqlThingStore.Get"
    assert exc.params == {"Name": "x", "Count": 3, "Nested": {"a": [1, "b"]}}
    assert exc.grpc_code is None


def test_plain_go_error_keeps_its_message() -> None:
    exc = error_from_app_error(common_pb2.AppError(message="boom"))
    assert type(exc) is InternalError
    assert exc.message == "boom"
    assert exc.status_code == 0
    assert exc.params == {}
    assert "boom" in str(exc)


def test_str_is_readable() -> None:
    text = str(error_from_app_error(app_error(404)))
    assert text == (
        "Unable to get the thing. [app.thing.get.app_error, status 404, "
        "in SqlThingStore.Get, request req123]: sql: no rows"
    )
    assert str(NotFoundError()) == "NotFoundError [status 404]"


def test_default_status_of_each_class() -> None:
    for status, cls in STATUS_CLASSES[:12]:
        if status == 502:
            continue
        assert cls("x").status_code == status
    assert PluginAPIError("x").status_code == 500
    assert NotFoundError("x", status_code=410).status_code == 410


def test_errors_pickle_with_every_field() -> None:
    exc = error_from_app_error(app_error(409))
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is ConflictError
    assert vars(back) == vars(exc)


RPC_CASES: list[tuple[grpc.StatusCode, type[PluginAPIError], int]] = [
    (grpc.StatusCode.UNAVAILABLE, UnavailableError, 503),
    (grpc.StatusCode.DEADLINE_EXCEEDED, DeadlineExceededError, 504),
    (grpc.StatusCode.UNAUTHENTICATED, UnauthorizedError, 401),
    (grpc.StatusCode.PERMISSION_DENIED, PermissionDeniedError, 403),
    (grpc.StatusCode.NOT_FOUND, NotFoundError, 404),
    (grpc.StatusCode.INVALID_ARGUMENT, ValidationError, 400),
    (grpc.StatusCode.FAILED_PRECONDITION, ValidationError, 400),
    (grpc.StatusCode.OUT_OF_RANGE, ValidationError, 400),
    (grpc.StatusCode.ALREADY_EXISTS, ConflictError, 409),
    (grpc.StatusCode.ABORTED, ConflictError, 409),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, PayloadTooLargeError, 413),
    (grpc.StatusCode.UNIMPLEMENTED, UnsupportedError, 501),
    (grpc.StatusCode.CANCELLED, InternalError, 500),
    (grpc.StatusCode.UNKNOWN, InternalError, 500),
    (grpc.StatusCode.INTERNAL, InternalError, 500),
    (grpc.StatusCode.DATA_LOSS, InternalError, 500),
]


@pytest.mark.parametrize(("code", "cls", "status"), RPC_CASES)
def test_rpc_error_maps_into_the_hierarchy(
    code: grpc.StatusCode, cls: type[PluginAPIError], status: int
) -> None:
    rpc_error = grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="the details", debug_error_string=""
    )
    exc = error_from_rpc_error(rpc_error, "GetUser")
    assert type(exc) is cls
    assert exc.status_code == status
    assert exc.grpc_code is code
    assert exc.id == f"plugin.python.transport.{code.name.lower()}"
    assert exc.where == "GetUser"
    assert exc.detailed_error == "the details"
    assert "GetUser" in exc.message
    assert "the details" in exc.message
    assert code.name in exc.message


def test_rpc_error_without_code_is_internal() -> None:
    exc = error_from_rpc_error(grpc.RpcError("odd"), "KVGet")
    assert type(exc) is InternalError
    assert exc.grpc_code is grpc.StatusCode.UNKNOWN


def test_to_app_error_keeps_a_plugin_api_error() -> None:
    exc = NotFoundError(
        "No such thing.",
        id="plugin.thing.missing",
        detailed_error="key k",
        request_id="r1",
        where="Thing.Get",
        params={"Key": "k", "When": object()},
    )
    error = to_app_error(exc, "OnActivate")
    assert error.id == "plugin.thing.missing"
    assert error.message == "No such thing."
    assert error.detailed_error == "key k"
    assert error.request_id == "r1"
    assert error.status_code == 404
    assert error.where == "Thing.Get"
    assert error.params["Key"] == "k"
    assert isinstance(error.params["When"], str)
    assert error_from_app_error(error).params["Key"] == "k"


def test_to_app_error_of_a_plugin_api_error_defaults_where_to_the_hook() -> None:
    assert to_app_error(ConflictError("x"), "OnInstall").where == "OnInstall"


def test_to_app_error_of_any_other_exception() -> None:
    error = to_app_error(ValueError("bad value"), "OnSAMLLogin")
    assert error.id == "plugin.python.on_saml_login.error"
    assert error.message == "bad value"
    assert error.status_code == 500
    assert error.where == "OnSAMLLogin"
    assert error.detailed_error == "builtins.ValueError"
    assert not error.HasField("params")


def test_to_app_error_of_an_exception_without_text() -> None:
    class Oops(Exception):
        pass

    error = to_app_error(Oops(), "ServeHTTP")
    assert error.message == "Oops"
    assert error.id == "plugin.python.serve_http.error"


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("OnActivate", "on_activate"),
        ("ServeHTTP", "serve_http"),
        ("OnSAMLLogin", "on_saml_login"),
        ("KVSetWithOptions", "kv_set_with_options"),
        ("MessagesWillBeConsumedWithContext", "messages_will_be_consumed_with_context"),
        ("OnSharedChannelsPing", "on_shared_channels_ping"),
    ],
)
def test_snake_case(name: str, snake: str) -> None:
    assert errors.snake_case(name) == snake
