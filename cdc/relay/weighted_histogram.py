"""A Prometheus histogram that takes one value for many observations at once.

The relay learns the commit -> acknowledgement latency of a whole batch at once, and a batch
holds anything from one event to thousands. Observing once per batch let one stalled batch of
thousands count as one event (the tail vanished); observing each event with prometheus_client
costs ~2 us per call. This keeps its own bucket counts and exports them through a custom
collector, prometheus_client's documented way to expose metrics it does not implement."""
from __future__ import annotations

import bisect
import math
import threading

from prometheus_client import REGISTRY
from prometheus_client.core import HistogramMetricFamily


class WeightedHistogram:
    def __init__(self, name: str, documentation: str, buckets, registry=REGISTRY):
        self.name, self.documentation = name, documentation
        self._bounds = sorted(float(b) for b in buckets)
        self._counts = [0] * (len(self._bounds) + 1)     # the last one is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(self)

    def observe(self, value: float, count: int = 1) -> None:
        """Record `count` observations of `value`."""
        if count <= 0:
            return
        index = bisect.bisect_left(self._bounds, value)     # buckets are upper bounds (le)
        with self._lock:
            self._counts[index] += count
            self._sum += value * count

    def collect(self):
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, buckets = 0, []
        for bound, count in zip(self._bounds + [math.inf], counts):
            cumulative += count
            buckets.append(("+Inf" if bound == math.inf else repr(bound), cumulative))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=total)

    def describe(self):
        return [HistogramMetricFamily(self.name, self.documentation, buckets=[("+Inf", 0)], sum_value=0)]
