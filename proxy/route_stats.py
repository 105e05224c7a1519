"""Live per-route figures for `cli routes` and `GET /_proxy/routes` (Prometheus has the full set)."""
from __future__ import annotations

from collections import Counter, deque
from statistics import quantiles


class RouteStats:
    __slots__ = ("requests", "by_upstream", "by_class", "recent")

    def __init__(self, window: int = 2048):
        self.requests = 0
        self.by_upstream: Counter = Counter()
        self.by_class: Counter = Counter()
        self.recent: deque = deque(maxlen=window)  # seconds of the latest requests

    def observe(self, upstream: str, status_class: str, seconds: float) -> None:
        self.requests += 1
        self.by_upstream[upstream] += 1
        self.by_class[status_class] += 1
        self.recent.append(seconds)

    def to_dict(self) -> dict:
        recent = list(self.recent)
        p50 = p99 = None
        if len(recent) >= 2:
            cuts = quantiles(recent, n=100, method="inclusive")
            p50, p99 = round(cuts[49] * 1000, 3), round(cuts[98] * 1000, 3)
        return {"requests": self.requests, "by_upstream": dict(self.by_upstream),
                "by_status_class": dict(self.by_class), "recent_p50_ms": p50, "recent_p99_ms": p99}
