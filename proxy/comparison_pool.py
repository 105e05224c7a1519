"""Runs response comparisons off the event loop.

DeepDiff costs milliseconds per differing document; done in the proxy's event loop at 1,000
shadowed requests/s it would add that to every client's latency. Identical bodies are settled in
the loop (microseconds); anything else goes to worker processes."""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Optional

from proxy.compare import CompareProfile, Comparison, ResponseSnapshot, compare_responses

log = logging.getLogger("proxy.compare")


class ComparisonPool:
    def __init__(self, workers: int):
        self.workers = workers
        self._executor: Optional[ProcessPoolExecutor] = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the proxy has threads (file watcher, log writer) a fork would copy mid-state.
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._executor

    async def compare(self, legacy: ResponseSnapshot, candidate: ResponseSnapshot,
                      profile: CompareProfile) -> Comparison:
        if self.workers <= 0 or legacy.body == candidate.body:
            return compare_responses(legacy, candidate, profile)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), compare_responses, legacy, candidate, profile)
        except BrokenProcessPool:
            log.error("comparison worker died; starting a new one")
            self._executor = None
            return await loop.run_in_executor(self._pool(), compare_responses, legacy, candidate, profile)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
