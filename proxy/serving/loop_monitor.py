"""Evidence for a latency tail in a serving process: how late its event loop wakes for a timer
(blocked by our own code, or waiting for a CPU other processes hold) and how long the garbage
collector stops it. Both are Prometheus histograms (`proxy_event_loop_lag_seconds`,
`proxy_gc_pause_seconds`), read by benchmarks/proxy/run.py next to the latency it measures."""
from __future__ import annotations

import asyncio
import gc
import time
from typing import Optional

from proxy.metrics import ProxyMetrics

INTERVAL = 0.02  # seconds between probes: fine enough to see a 5 ms stall, costs ~50 wake-ups/s


class LoopMonitor:
    def __init__(self, metrics: ProxyMetrics):
        self.metrics = metrics
        self._task: Optional[asyncio.Task] = None
        self._gc_started = 0.0
        self._gc_pauses: list[tuple[int, float]] = []  # noted in the callback, observed by the probe
        self._gc_children = {g: metrics.gc_pause.labels(str(g)) for g in range(3)}

    def start(self) -> None:
        self._task = asyncio.create_task(self._probe())
        gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    async def _probe(self) -> None:
        lag = self.metrics.loop_lag
        while True:
            before = time.perf_counter()
            await asyncio.sleep(INTERVAL)
            lag.observe(max(0.0, time.perf_counter() - before - INTERVAL))
            pauses, self._gc_pauses = self._gc_pauses, []
            for generation, seconds in pauses:
                self._gc_children[generation].observe(seconds)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:  # no metric call here: the collector can run inside one, holding its lock
            self._gc_pauses.append((info["generation"], time.perf_counter() - self._gc_started))
