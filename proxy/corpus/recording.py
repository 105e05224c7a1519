"""Sampling real traffic into the corpus, in a serving process, at a cost the hot path can carry.

Per request: the route's `corpus.sample` is read and, when it is above 0, one `random()` drawn.
A sampled request appends one tuple of references (no copies: the header list and body bytes are
the request's own) to a pending list; the first one of a batch schedules a flush
`PROXY_CORPUS_FLUSH_SECONDS` later. The flush hands the whole batch to one writer thread, which
scrubs, serialises and appends it (proxy/corpus/store.py): one thread wake-up per batch, not per
request (the shadow record file found a wake-up per record too dear). If the writer falls behind
(`MAX_PENDING` entries waiting), further samples are dropped and counted in the log."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import orjson

from proxy.corpus.scrub import Scrubber
from proxy.corpus.store import CorpusWriter, build_entry

log = logging.getLogger("proxy.corpus")

MAX_PENDING = 10_000  # entries taken but not yet written; beyond, samples are dropped


class CorpusRecorder:
    def __init__(self, directory: Path, secret: str, max_file_bytes: int, max_files: int,
                 flush_seconds: float = 1.0):
        self.scrubber = Scrubber(secret)
        self.writer = CorpusWriter(directory, max_file_bytes, max_files)
        self.flush_seconds = flush_seconds
        self._pending: list[tuple] = []
        # Taken (event loop) minus finished (writer thread) = waiting: each counter has one writer
        # thread, so neither loses an update.
        self._taken = 0
        self._finished = 0
        self.dropped = 0
        self.written = 0
        self._executor: Optional[ThreadPoolExecutor] = None
        self._timer: Optional[asyncio.TimerHandle] = None

    def take(self, route: str, method: str, path: str, query: bytes, headers: list, body: Optional[bytes],
             status: int, answered_by: str, request_id: str, body_omitted: Optional[str] = None) -> None:
        """Called on the event loop once the client has its answer; never blocks."""
        if self._taken - self._finished >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending.append((route, method, path, query, headers, body, status, answered_by, request_id,
                              time.time(), body_omitted))
        self._taken += 1
        if self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.flush_seconds, self.flush)
            except RuntimeError:  # no loop (tools, tests): write now
                self._write(self._take_batch())

    def _take_batch(self) -> list[tuple]:
        batch, self._pending = self._pending, []
        self._timer = None
        return batch

    def flush(self) -> None:
        batch = self._take_batch()
        if not batch:
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="corpus-writer")
        self._executor.submit(self._write, batch)

    def _write(self, batch: list[tuple]) -> None:
        lines: dict[str, list[bytes]] = defaultdict(list)
        try:
            for (route, method, path, query, headers, body, status, answered_by, request_id, when,
                 omitted) in batch:
                entry = build_entry(self.scrubber, route, method, path, query, headers, body, status,
                                    answered_by, request_id, when, omitted)
                lines[route].append(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
            for route, route_lines in lines.items():
                self.writer.append(route, route_lines)
            self.written += len(batch)
        except Exception:  # disk full, unwritable folder: the corpus loses this batch, clients nothing
            log.exception("corpus batch not written", extra={"entries": len(batch)})
        finally:
            self._finished += len(batch)
        if self.dropped:
            log.warning("corpus samples dropped (writer behind)", extra={"dropped": self.dropped})
            self.dropped = 0

    def close(self) -> None:
        """Write what is pending and wait for the writer (shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
        batch = self._take_batch()
        if self._executor is not None:
            if batch:
                self._executor.submit(self._write, batch)
            self._executor.shutdown(wait=True)
            self._executor = None
        elif batch:
            self._write(batch)
