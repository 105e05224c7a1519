"""Where shadow comparison results go: the live report, a ring of recent records for the admin API,
metrics, and a JSON-lines file (rotated) that `cli report --file` rebuilds the report from."""
from __future__ import annotations

import logging
import logging.handlers
import queue
import time
from collections import deque
from pathlib import Path
from typing import Iterable, Optional

import orjson

from proxy.compare import ShadowReport
from proxy.compare.report import COMPARED
from proxy.metrics import ShadowMetrics


class ShadowRecorder:
    def __init__(self, path: Path, metrics: ShadowMetrics, noise_min_hits: int = 1, keep: int = 1000,
                 history: Iterable[dict] = ()):
        self.metrics = metrics
        self.report = ShadowReport(noise_min_hits=noise_min_hits)
        self.recent: deque = deque(maxlen=keep)
        for record in history:  # already in the file: rebuild the live view only
            self.report.add(record)
            if record.get("type") == "shadow":
                self.recent.append(record)
        self._gauge_updated: dict[str, float] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        # File writes happen on a listener thread so a slow disk never stalls the event loop.
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=50 * 1024 * 1024, backupCount=3,
                                                       encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        self._queue: queue.Queue = queue.Queue(maxsize=10_000)
        self._listener = logging.handlers.QueueListener(self._queue, handler)
        self._listener.start()
        self._logger = logging.getLogger(f"proxy.shadow_records.{id(self)}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(logging.handlers.QueueHandler(self._queue))

    def classify(self, route: str, fields) -> str:
        return self.report.noise_model(route).classify(fields)

    def record(self, record: dict) -> None:
        self.report.add(record)
        route = record["route"]
        if record["type"] == "shadow":
            self.recent.append(record)
            self.metrics.shadow_results.labels(route, record["result"]).inc()
            now = time.monotonic()
            if record["result"] in COMPARED and now - self._gauge_updated.get(route, 0.0) >= 1.0:
                # Re-classifying past records costs more than a counter: at most once a second.
                self._gauge_updated[route] = now
                summary = self.report.to_dict(route, top=0)["routes"][route]
                if summary["match_rate_excluding_noise"] is not None:
                    self.metrics.shadow_match_ratio.labels(route).set(summary["match_rate_excluding_noise"])
        try:
            self._logger.info(orjson.dumps(record, default=str).decode())
        except queue.Full:  # the disk is far behind: keep serving, lose the line
            pass

    def records(self, route: Optional[str] = None, result: Optional[str] = None, limit: int = 50) -> list[dict]:
        selected = [r for r in reversed(self.recent)
                    if (route is None or r["route"] == route) and (result is None or r["result"] == result)]
        return selected[:limit]

    def close(self) -> None:
        self._listener.stop()
        for handler in self._listener.handlers:
            handler.close()
