"""hclog JSON lines on stderr, in the form go-plugin parses."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from mattermost_plugin._logging import (
    TRACE,
    HclogHandler,
    StreamToLog,
    configure,
    level_name,
    parse_level,
)

# go-plugin parses @timestamp with Go's layout "2006-01-02T15:04:05.000000Z07:00"
# exactly (log_entry.go): six fractional digits, then Z or an offset.
GO_LAYOUT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    log = logging.getLogger("test.hclog")
    log.propagate = False
    log.setLevel(1)
    handler = HclogHandler(stream)
    log.addHandler(handler)
    yield log, stream
    log.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_records_become_hclog_lines(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    log.log(TRACE, "t")
    log.debug("d %s", "arg")
    log.info("i", extra={"post_id": "p1", "count": 3, "obj": object(), "items": (1, {"a": b"x"})})
    log.warning("w")
    log.error("e")
    log.critical("c")
    out = lines(stream)
    assert [e["@level"] for e in out] == ["trace", "debug", "info", "warn", "error", "error"]
    assert [e["@message"] for e in out] == ["t", "d arg", "i", "w", "e", "c"]
    assert all(e["@module"] == "test.hclog" for e in out)
    assert all(GO_LAYOUT.match(e["@timestamp"]) for e in out), out[0]["@timestamp"]
    info = out[2]
    assert info["post_id"] == "p1" and info["count"] == 3
    assert isinstance(info["obj"], str)
    assert info["items"] == [1, {"a": "b'x'"}]
    assert set(out[0]) == {"@level", "@message", "@timestamp", "@module"}
    assert stream.getvalue().count("\n") == 6


def test_exceptions_carry_their_traceback(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    try:
        raise ValueError("bad\nmultiline")
    except ValueError:
        log.exception("failed")
    (entry,) = lines(stream)
    assert entry["@level"] == "error"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].endswith("ValueError: bad\nmultiline")
    assert stream.getvalue().count("\n") == 1


def test_levels() -> None:
    assert parse_level("WARN") == logging.WARNING
    assert parse_level(" warning ") == logging.WARNING
    assert parse_level("trace") == TRACE
    with pytest.raises(ValueError, match="unknown log level"):
        parse_level("verbose")
    assert [level_name(n) for n in (1, 10, 20, 30, 40, 50)] == [
        "trace",
        "debug",
        "info",
        "warn",
        "error",
        "error",
    ]


def test_configure_sends_everything_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        plugin_logger = configure("warn", name="my.plugin")
        assert plugin_logger.name == "my.plugin"
        plugin_logger.info("hidden")
        plugin_logger.warning("shown", extra={"k": "v"})
        logging.getLogger("some.library").error("also shown")
        out = capsys.readouterr()
        assert out.out == ""
        entries = [json.loads(line) for line in out.err.splitlines()]
        assert [(e["@module"], e["@message"]) for e in entries] == [
            ("my.plugin", "shown"),
            ("some.library", "also shown"),
        ]
        assert entries[0]["k"] == "v"
        assert any(isinstance(h, HclogHandler) for h in root.handlers)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.captureWarnings(False)


def test_stream_to_log(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    out = StreamToLog(log)
    print("hello", "world", file=out)
    out.write("partial")
    assert [e["@message"] for e in lines(stream)] == ["hello world"]
    out.write(" line\nnext")
    out.flush()
    assert [e["@message"] for e in lines(stream)] == ["hello world", "partial line", "next"]
    assert not out.isatty() and out.writable()
    assert sys.stdout is not out
