"""Where shadow comparison results go: the live report, a ring of recent records for the admin API,
metrics, and a JSON-lines file (rotated) that `cli report --file` rebuilds the report from."""
from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Iterable, Optional

import orjson

from proxy.compare import ShadowReport
from proxy.compare.report import COMPARED
from proxy.metrics import ShadowMetrics
from proxy.shadow.record_file import RecordFile


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
        self._result_counters: dict[tuple[str, str], object] = {}  # labels() locks and hashes every call
        self._file = RecordFile(path)

    def classify(self, route: str, fields) -> str:
        return self.report.noise_model(route).classify(fields)

    def record(self, record: dict) -> None:
        self.report.add(record)
        route = record["route"]
        if record["type"] == "shadow":
            self.recent.append(record)
            key = (route, record["result"])
            counter = self._result_counters.get(key)
            if counter is None:
                counter = self._result_counters[key] = self.metrics.shadow_results.labels(*key)
            counter.inc()
            now = time.monotonic()
            if record["result"] in COMPARED and now - self._gauge_updated.get(route, 0.0) >= 1.0:
                # A report summary costs more than a counter: at most once a second.
                self._gauge_updated[route] = now
                summary = self.report.to_dict(route, top=0)["routes"][route]
                if summary["match_rate"] is not None:
                    self.metrics.shadow_match_ratio.labels(route).set(summary["match_rate"])
                    self.metrics.shadow_mismatch_ratio.labels(route).set(summary["mismatch_rate"])
        self._file.append(orjson.dumps(record, default=str, option=orjson.OPT_APPEND_NEWLINE))

    def records(self, route: Optional[str] = None, result: Optional[str] = None, limit: int = 50) -> list[dict]:
        selected = [r for r in reversed(self.recent)
                    if (route is None or r["route"] == route) and (result is None or r["result"] == result)]
        return selected[:limit]

    def close(self) -> None:
        self._file.close()
