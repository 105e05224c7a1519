"""One JSON log schema: the proxy, the CDC processes and every service log through the same
formatter object (observability/json_logs.py), and the proxy's access log writes the same fields."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys

import pytest

from observability import json_logs

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def root_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _configurers():
    from cdc import logging_json
    from proxy import json_logging
    from services.common.observability import configure_logging

    return {"proxy": (json_logging.configure, "stdout"), "cdc": (logging_json.configure, "stderr"),
            "services": (configure_logging, "stdout")}


@pytest.mark.parametrize("process", ["proxy", "cdc", "services"])
def test_every_process_formats_with_the_shared_formatter(process, root_logging, monkeypatch):
    configure, stream_name = _configurers()[process]
    stream = io.StringIO()
    monkeypatch.setattr(sys, stream_name, stream)
    configure("info")
    [handler] = logging.getLogger().handlers
    assert handler.formatter is json_logs.FORMATTER
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger(f"{process}.test").exception("it failed for %s", "track 7", extra={"route": "r1"})
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert list(line)[:4] == ["ts", "level", "logger", "msg"] and TS.match(line["ts"])
    assert (line["level"], line["logger"], line["msg"], line["route"]) == (
        "ERROR", f"{process}.test", "it failed for track 7", "r1")
    assert "ValueError: boom" in line["exc"]


def test_the_access_log_writes_the_same_schema():
    from proxy.serving.access_log import AccessLog

    stream = io.BytesIO()

    async def log_one():
        access = AccessLog(stream)
        access.request("GET", "/api/v1/tracks/", 200, "catalog-read", "legacy", 1.5, "req-1", "127.0.0.1")
        access.flush()

    asyncio.run(log_one())
    line = json.loads(stream.getvalue())
    assert list(line)[:4] == list(json_logs.FIELDS) and TS.match(line["ts"])
    assert (line["level"], line["logger"], line["msg"], line["route"]) == ("INFO", "proxy.access", "request",
                                                                           "catalog-read")
