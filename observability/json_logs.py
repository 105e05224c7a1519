"""One JSON log schema for every process (one object per line):

    {"ts": "2026-12-02T09:14:03.271Z", "level": "INFO", "logger": "proxy", "msg": "...", <extra fields>, "exc": "..."}

`ts` is UTC, ISO 8601 with milliseconds and `Z`; `extra={...}` fields follow `msg` as given;
`exc` holds the formatted traceback when there is one. The stack's log collector and `jq` read
every component's lines alike."""
from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Optional

FIELDS = ("ts", "level", "logger", "msg")
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def format_ts(created: float) -> str:
    """`created` (seconds since the epoch) as the schema's `ts`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created * 1000) % 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": format_ts(record.created), "level": record.levelname, "logger": record.name,
                "msg": record.getMessage()}
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_") and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


FORMATTER = JsonFormatter()  # one instance: every process's handler formats with this object


def configure(level: str = "INFO", stream: Optional[IO[str]] = None) -> logging.Handler:
    """The root logger writes the schema's lines to `stream` (default stdout) at `level`; other
    handlers on the root are replaced. Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(FORMATTER)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    return handler
