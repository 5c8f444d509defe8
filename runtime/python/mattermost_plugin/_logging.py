"""Logs the server understands: one JSON object per line on stderr, in
hclog's format, which go-plugin parses and re-levels into the server's log.

A line carries `@level` (trace, debug, info, warn, error), `@message`,
`@timestamp`, `@module` (the logger's name), every extra attribute of the
record (`logger.info("saved", extra={"post_id": pid})`) and, for records
with an exception, its traceback under `exception`.

The timestamp has microseconds (`2006-01-02T15:04:05.000000Z07:00`, what
hclog writes): go-plugin parses it with exactly that layout, and a line
whose timestamp does not match (milliseconds, say) is not recognised as
JSON and lands in the server's log unlevelled.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
import traceback
from typing import IO, Any

__all__ = ["LEVELS", "HclogHandler", "configure", "level_name", "parse_level"]

TRACE = 5
"""The level of trace records (below DEBUG)."""

LEVELS: dict[str, int] = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
"""The level names `configure` accepts, case-insensitive."""

# The attributes every LogRecord has; anything else was given as `extra`.
_STANDARD = frozenset(
    {
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "taskName",
        "message",
        "asctime",
    }
)


def parse_level(name: str) -> int:
    """The logging level of a level name (`LEVELS`); ValueError otherwise."""
    try:
        return LEVELS[name.strip().lower()]
    except KeyError:
        choices = ", ".join(n for n in LEVELS if n != "warning")
        raise ValueError(f"unknown log level {name!r} (expected one of {choices})") from None


def level_name(level: int) -> str:
    """The hclog name of a logging level."""
    if level >= logging.ERROR:
        return "error"
    if level >= logging.WARNING:
        return "warn"
    if level >= logging.INFO:
        return "info"
    if level >= logging.DEBUG:
        return "debug"
    return "trace"


def _timestamp(created: float) -> str:
    moment = datetime.datetime.fromtimestamp(created, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


class HclogHandler(logging.Handler):
    """Writes each record as one hclog JSON line to `stream` (stderr when
    none is given, looked up at each record)."""

    def __init__(self, stream: IO[str] | None = None, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._stream = stream

    def format_record(self, record: logging.LogRecord) -> str:
        """The JSON line of `record`, without the newline."""
        entry: dict[str, Any] = {
            "@level": level_name(record.levelno),
            "@message": record.getMessage(),
            "@timestamp": _timestamp(record.created),
            "@module": record.name,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = _jsonable(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format_record(record)
            stream = self._stream if self._stream is not None else sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - logging.Handler's convention
            self.handleError(record)


class StreamToLog:
    """A text stream whose lines go to a logger: `sys.stdout` once the
    handshake is out, so that a stray `print` reaches the server's log and
    never the go-plugin protocol."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, logger: logging.Logger, level: int = logging.INFO) -> None:
        self._logger = logger
        self._level = level
        self._pending = ""

    def write(self, text: str) -> int:
        """Logs every complete line of `text`; keeps the rest for later."""
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line:
                self._logger.log(self._level, line)
        return len(text)

    def flush(self) -> None:
        """Logs a pending partial line."""
        if self._pending:
            line, self._pending = self._pending, ""
            self._logger.log(self._level, line)

    def isatty(self) -> bool:
        """False."""
        return False

    def writable(self) -> bool:
        """True."""
        return True


def configure(level: str, name: str = "plugin") -> logging.Logger:
    """Sends every log record at `level` or above (a name of `LEVELS`) to
    stderr as hclog JSON lines, replacing the root logger's handlers, and
    returns the logger `name` (the plugin's). gRPC's own debug records show
    at trace level only. Called by `run`/`serve` only."""
    numeric = parse_level(level)
    logging.addLevelName(TRACE, "TRACE")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(HclogHandler())
    root.setLevel(numeric)
    # gRPC's own debug records are for trace level only.
    logging.getLogger("grpc").setLevel(numeric if numeric <= TRACE else logging.INFO)
    logging.captureWarnings(True)
    return logging.getLogger(name)
