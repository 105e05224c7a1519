"""The access log: one JSON line per client request on stdout, same shape as the other log lines
(`ts`, `level`, `logger`, `message` and the fields).

Written without the logging machinery: python-json-logger cost about 60 us per line, a fifth of the
proxy's CPU per request. Lines of one event-loop step are written together at its end."""
from __future__ import annotations

import asyncio
import sys
import time

import orjson


class AccessLog:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout.buffer
        self._pending: list[bytes] = []
        self._second = -1
        self._ts = ""

    def request(self, method: str, path: str, status: int, route: str, upstream: str, ms: float,
                request_id: str, client) -> None:
        now = int(time.time())
        if now != self._second:  # the timestamp has one-second resolution, like the other log lines
            self._second, self._ts = now, time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now))
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(orjson.dumps({
            "ts": self._ts, "level": "INFO", "logger": "proxy.access", "message": "request", "method": method,
            "path": path, "status": status, "route": route, "upstream": upstream, "ms": ms,
            "request_id": request_id, "client": client}, option=orjson.OPT_APPEND_NEWLINE))

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            self.stream.write(b"".join(pending))
            self.stream.flush()
