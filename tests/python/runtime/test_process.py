"""The plugin process: its settings, and the process itself in a child:
handshake first on stdout, go-plugin's services, graceful stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from conftest import subprocess_env
from mattermost_plugin._process import COOKIE_KEY, COOKIE_VALUE, Settings

CHILDREN = Path(__file__).parent / "children"

ENV = {
    COOKIE_KEY: COOKIE_VALUE,
    "MM_PLUGIN_API_ADDRESS": "127.0.0.1:8065",
    "MM_PLUGIN_API_TOKEN": "tok",
    "MM_PLUGIN_ID": "com.example.p",
}


def test_settings_from_env() -> None:
    settings = Settings.from_env(ENV)
    assert settings == Settings(
        api_address="127.0.0.1:8065",
        plugin_id="com.example.p",
        api_token="tok",
        log_level="info",
        hook_timeout=30.0,
    )
    more = Settings.from_env(
        {
            **ENV,
            "MM_PLUGIN_API_TOKEN": "",
            "MM_PLUGIN_LOG_LEVEL": "DEBUG",
            "MM_PLUGIN_HOOK_TIMEOUT": "2.5",
            "PLUGIN_PROTOCOL_VERSIONS": "1, 2",
            "MM_PLUGIN_API_ADDRESS": "[::1]:9000",
            "MM_PLUGIN_PARENT_FD": "3",
        }
    )
    assert (more.api_token, more.log_level, more.hook_timeout) == (None, "debug", 2.5)
    assert (settings.parent_fd, more.parent_fd) == (None, 3)
    assert more.api_address == "[::1]:9000"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({COOKIE_KEY: None}, "Mattermost server plugin"),
        ({COOKIE_KEY: "nope"}, "is wrong"),
        ({"PLUGIN_PROTOCOL_VERSIONS": "2"}, "protocol versions 2"),
        ({"PLUGIN_CLIENT_CERT": "---cert---"}, "mTLS"),
        ({"MM_PLUGIN_API_ADDRESS": None}, "MM_PLUGIN_API_ADDRESS is not set"),
        ({"MM_PLUGIN_API_ADDRESS": "localhost"}, "host:port"),
        ({"MM_PLUGIN_API_ADDRESS": "localhost:http"}, "host:port"),
        ({"MM_PLUGIN_API_ADDRESS": "localhost:70000"}, "host:port"),
        ({"MM_PLUGIN_ID": " "}, "MM_PLUGIN_ID is not set"),
        ({"MM_PLUGIN_LOG_LEVEL": "loud"}, "unknown log level"),
        ({"MM_PLUGIN_HOOK_TIMEOUT": "0"}, "positive number"),
        ({"MM_PLUGIN_HOOK_TIMEOUT": "-3"}, "positive number"),
        ({"MM_PLUGIN_HOOK_TIMEOUT": "soon"}, "positive number"),
        ({"MM_PLUGIN_HOOK_TIMEOUT": "inf"}, "positive number"),
        ({"MM_PLUGIN_HOOK_TIMEOUT": "nan"}, "positive number"),
        ({"MM_PLUGIN_PARENT_FD": "three"}, "file descriptor"),
        ({"MM_PLUGIN_PARENT_FD": "-1"}, "file descriptor"),
    ],
)
def test_settings_refuse_a_bad_environment(change: dict[str, str | None], message: str) -> None:
    env = {**ENV, **change}
    with pytest.raises(SystemExit) as info:
        Settings.from_env({k: v for k, v in env.items() if v is not None})
    assert message in str(info.value.code)


def test_without_the_cookie_the_program_says_what_it_is() -> None:
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, str(CHILDREN / "plugin.py")],
        env=subprocess_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert child.returncode == 1
    assert child.stdout == ""
    assert "This program is a Mattermost server plugin" in child.stderr
    assert "the Mattermost server starts it" in child.stderr
    assert time.monotonic() - started < 10


def check_streaming_hooks(child: Child) -> None:
    """ServeHTTP and FileWillBeUploaded through the generated servicer."""
    from mattermost_plugin.pb.mattermost.plugin.v1 import common_pb2
    from mattermost_plugin.pb.mattermost.plugin.v1 import plugin_hooks_pb2 as hooks
    from mattermost_plugin.pb.mattermost.plugin.v1.common_pb2 import PluginContext
    from mattermost_plugin.pb.mattermost.plugin.v1.model_file_pb2 import FileInfo

    def bidi(name: str, requests: list[Any], response_type: Any) -> list[Any]:
        method = child.channel.stream_stream(
            f"/mattermost.plugin.v1.PluginHooks/{name}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString,
        )
        return list(method(iter(requests), timeout=10, metadata=child.metadata))

    head = common_pb2.HTTPRequest(method="POST", url="/a/b?c=d", body=b"ab")
    frames = bidi(
        "ServeHTTP",
        [
            hooks.ServeHTTPRequest(context=PluginContext(request_id="r9"), request=head),
            hooks.ServeHTTPRequest(request=common_pb2.HTTPRequest(body=b"cd", body_end=True)),
        ],
        hooks.ServeHTTPResponse,
    )
    assert frames[0].response.status_code == 202
    assert [(h.name, list(h.values)) for h in frames[0].response.headers] == [
        ("X-Path", ["/a/b", "r9"])
    ]
    assert b"".join(f.response.body for f in frames) == b"ABCD"
    assert frames[-1].response.body_end

    answers = bidi(
        "FileWillBeUploaded",
        [
            hooks.FileWillBeUploadedRequest(info=FileInfo(name="f.txt"), file=b"abc"),
            hooks.FileWillBeUploadedRequest(file=b"def"),
        ],
        hooks.FileWillBeUploadedResponse,
    )
    assert b"".join(a.output for a in answers) == b"ABCDEF"
    assert answers[-1].replacement_info.name == "f.txt.upper"
    assert not answers[-1].output


class Child:
    """A plugin process, as go-plugin runs it: stdout and stderr piped."""

    def __init__(self, script: str, **env: str) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, str(CHILDREN / script)],
            env=subprocess_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # The launcher's pipe, when the test gives one.
            pass_fds=[int(fd) for fd in [env.get("MM_PLUGIN_PARENT_FD")] if fd],
        )
        assert self.process.stdout is not None
        self.handshake = self.process.stdout.readline().strip()
        self.handshake_seconds = time.monotonic() - self.started
        parts = self.handshake.split("|")
        assert parts[:3] == ["1", "1", "tcp"] and parts[4] == "grpc", self.handshake
        host, _, port = parts[3].rpartition(":")
        assert host == "127.0.0.1"
        self.address = f"127.0.0.1:{int(port)}"
        self.channel = grpc.insecure_channel(self.address)
        # What the Go launcher sends on every call.
        token = env.get("MM_PLUGIN_API_TOKEN", "")
        self.metadata: tuple[tuple[str, str], ...] = (
            (("x-mm-bridge-token", token),) if token else ()
        )

    def call(
        self, path: str, request: bytes = b"", timeout: float = 5, *, token: bool = True
    ) -> bytes:
        method = self.channel.unary_unary(
            path, request_serializer=lambda b: b, response_deserializer=lambda b: b
        )
        metadata = self.metadata if token else ()
        response: bytes = method(request, timeout=timeout, metadata=metadata)
        return response

    def finish(self, timeout: float = 10) -> tuple[int, str, list[dict[str, Any]]]:
        """Waits for the exit; the exit status, the rest of stdout, the log."""
        out, err = self.process.communicate(timeout=timeout)
        self.channel.close()
        log = []
        for line in err.splitlines():
            if line.startswith("{"):
                log.append(json.loads(line))
        return self.process.returncode, out, log

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        self.channel.close()


@pytest.fixture
def core() -> Iterator[Child]:
    child = Child("core.py")
    yield child
    child.kill()


def test_core_serves_go_plugins_services_and_stops_on_shutdown(core: Child) -> None:
    # Health: service "plugin" SERVING.
    assert core.call("/grpc.health.v1.Health/Check", b"\x0a\x06plugin") == b"\x08\x01"
    # The hooks service added by setup works; its print goes to the log.
    assert core.call("/test.Echo/Echo", b"ping") == b"ping"
    # StreamStdio is open and idle.
    stdio = core.channel.unary_stream(
        "/plugin.GRPCStdio/StreamStdio",
        request_serializer=lambda b: b,
        response_deserializer=lambda b: b,
    )
    stream: Any = stdio(b"")
    time.sleep(0.2)
    assert stream.is_active()
    stopping = time.monotonic()
    assert core.call("/plugin.GRPCController/Shutdown") == b""
    assert list(stream) == []  # ends cleanly when the process stops
    code, out, log = core.finish()
    assert time.monotonic() - stopping < 2.0, "go-plugin kills the process after 2 s"
    assert code == 0
    assert out == "", "nothing but the handshake on stdout"
    messages = [(e["@module"], e["@message"]) for e in log]
    assert ("stdout", "stray print while building the plugin") in messages
    assert ("stdout", "stray print from a handler") in messages
    assert ("mattermost_plugin", "stopping") in messages


def test_a_plugin_that_cannot_start_says_why_in_the_log() -> None:
    child = subprocess.run(
        [sys.executable, str(CHILDREN / "core.py")],
        env=subprocess_env(CORE_FAIL="1"),
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert child.returncode == 1
    assert child.stdout == ""
    log = [json.loads(line) for line in child.stderr.splitlines() if line.startswith("{")]
    failure = next(e for e in log if e["@message"] == "the plugin could not start")
    assert failure["@level"] == "error"
    assert "the plugin's constructor failed" in failure["exception"]


def test_a_stuck_hook_thread_does_not_hold_the_exit() -> None:
    child = Child("core.py", CORE_HOOK_TIMEOUT="0.2")
    try:
        with pytest.raises(grpc.RpcError) as info:
            child.call("/test.Echo/Stuck")
        assert info.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        stopping = time.monotonic()
        child.call("/plugin.GRPCController/Shutdown")
        code, out, log = child.finish()
    finally:
        child.kill()
    assert code == 0
    assert out == ""
    assert time.monotonic() - stopping < 2.0, "go-plugin kills the process after 2 s"
    assert any("still running at exit" in e["@message"] for e in log)


def test_the_plugin_stops_when_its_launcher_ends() -> None:
    # The launcher holds the write end; its process ending closes it.
    read_end, write_end = os.pipe()
    child = Child("core.py", MM_PLUGIN_PARENT_FD=str(read_end))
    os.close(read_end)
    try:
        assert child.call("/test.Echo/Echo", b"x") == b"x"
        time.sleep(0.2)
        assert child.process.poll() is None, "the plugin runs while the launcher does"
        stopping = time.monotonic()
        os.close(write_end)
        code, out, log = child.finish()
    finally:
        child.kill()
    assert code == 0
    assert out == ""
    assert time.monotonic() - stopping < 2.0
    assert ("mattermost_plugin", "the process that started the plugin has ended; stopping") in [
        (e["@module"], e["@message"]) for e in log
    ]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_core_stops_gracefully_on_signals(core: Child, sig: signal.Signals) -> None:
    assert core.call("/test.Echo/Echo", b"x") == b"x"
    core.process.send_signal(sig)
    code, out, _ = core.finish()
    assert code == 0
    assert out == ""


def test_a_trivial_plugin_from_start_to_stop(package_root: Path) -> None:
    pytest.importorskip("mattermost_plugin._servicer")
    from mattermost_plugin.pb.mattermost.plugin.v1 import plugin_hooks_pb2 as hooks
    from mattermost_plugin.pb.mattermost.plugin.v1.model_post_pb2 import Post

    child = Child("plugin.py", **ENV, MM_PLUGIN_LOG_LEVEL="debug")
    try:
        implemented = hooks.ImplementedResponse.FromString(
            child.call("/mattermost.plugin.v1.PluginHooks/Implemented")
        )
        assert sorted(implemented.hooks) == [
            "FileWillBeUploaded",
            "MessageWillBePosted",
            "OnActivate",
            "ServeHTTP",
        ]
        # Hook calls without the token are refused; go-plugin's services
        # answer the host without it.
        with pytest.raises(grpc.RpcError) as refused:
            child.call("/mattermost.plugin.v1.PluginHooks/OnActivate", token=False)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert child.call("/grpc.health.v1.Health/Check", b"\x0a\x06plugin", token=False)
        activated = hooks.OnActivateResponse.FromString(
            child.call("/mattermost.plugin.v1.PluginHooks/OnActivate")
        )
        assert not activated.HasField("error")
        for text, expected in [("hello", "hello [PluginAPI/AsyncPluginAPI]"), ("spam!", "")]:
            request = hooks.MessageWillBePostedRequest(post=Post(message=text))
            answer = hooks.MessageWillBePostedResponse.FromString(
                child.call(
                    "/mattermost.plugin.v1.PluginHooks/MessageWillBePosted",
                    request.SerializeToString(),
                )
            )
            assert answer.replacement_post.message == expected
        assert answer.rejection_reason == "no spam"
        check_streaming_hooks(child)
        child.call("/plugin.GRPCController/Shutdown")
        code, out, log = child.finish()
    finally:
        child.kill()
    assert code == 0
    assert out == ""
    constructed = next(e for e in log if e["@message"] == "constructed")
    assert constructed["plugin"] == "com.example.p"
    assert ("stdout", "activated") in [(e["@module"], e["@message"]) for e in log]
    # The server gives a plugin 3 s to print its handshake.
    print(
        f"\nimport of the package: {constructed['import_ms']:.0f} ms; "
        f"process start to handshake: {child.handshake_seconds * 1000:.0f} ms"
    )
    assert child.handshake_seconds < 3.0
