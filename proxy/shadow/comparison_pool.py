"""Runs response comparisons for the shadow worker, in its loop or in extra processes.

The shadow worker is already off the serving path, so by default (`PROXY_COMPARE_WORKERS=0`) it
compares in its own loop. DeepDiff costs milliseconds per differing document; with many
differences that delays the worker's other exchanges (their `ms` figures too), which extra
comparison processes avoid on machines with cores to spare. Identical bodies are always settled
in the loop (microseconds)."""
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
                      profile: CompareProfile, query: Optional[bytes] = None) -> Comparison:
        """`query`: the request's query string (search profiles check hits against it)."""
        if self.workers <= 0 or legacy.body == candidate.body:
            return compare_responses(legacy, candidate, profile, query)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), compare_responses, legacy, candidate, profile, query)
        except BrokenProcessPool:
            log.error("comparison worker died; starting a new one")
            self._executor = None
            return await loop.run_in_executor(self._pool(), compare_responses, legacy, candidate, profile, query)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
