"""The runner's second stage: one thread writes decoded batches to the target, in the order they
were polled, while the polling thread decodes the next batch.

Why: a batch spends about a third of its time waiting for the target database (COPY, upserts,
commit). With one thread the next batch's decoding waited for that too; with two, decoding
overlaps the database round trips (the GIL is released while psycopg waits).

What stays as it was: batches are applied one at a time in poll order (so per-partition order is
kept), a batch's offsets are handed back only after its database commit (the polling thread
commits them to Kafka, the only thread that touches the Kafka consumer), and a batch that fails is
retried until it is applied or the runner stops, never skipped. At most `depth` batches are held
(the one being written and the next one)."""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from cdc.consumer.envelope import ChangeEvent, PoisonEvent

log = logging.getLogger("cdc.consumer.apply_stage")


@dataclass
class DecodedBatch:
    events: list[ChangeEvent]
    poison: list[tuple[ChangeEvent, PoisonEvent]]
    offsets: dict[tuple[str, int], int]          # (topic, partition) -> next offset to read
    epoch: str | None                             # the relay epoch the batch was read in
    decode_seconds: float = 0.0
    polled_at: float = field(default_factory=time.monotonic)


class ApplyStage:
    def __init__(self, apply_batch: Callable[[DecodedBatch], object], stop: threading.Event, *, name: str,
                 on_error: Callable[[Exception], None] | None = None, depth: int = 2,
                 retry_seconds: float = 1.0):
        self._apply_batch = apply_batch
        self._retry_seconds = retry_seconds
        self._stop = stop
        self._on_error = on_error
        self._depth = depth
        self._pending: deque[DecodedBatch] = deque()   # [0] is being written while the thread is busy
        self._applied: list[dict[tuple[str, int], int]] = []
        self._closing = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"cdc-apply-{name}", daemon=True)
        self._thread.start()

    def put(self, batch: DecodedBatch) -> bool:
        """Queue a batch; waits while `depth` batches are held. False if the runner stopped first
        (the batch is then neither applied nor committed: it is read again after a restart)."""
        with self._changed:
            while len(self._pending) >= self._depth and not self._stop.is_set() and self._thread.is_alive():
                self._changed.wait(0.1)
            if self._stop.is_set() or not self._thread.is_alive():
                return False
            self._pending.append(batch)
            self._changed.notify_all()
            return True

    def take_applied(self) -> list[dict[tuple[str, int], int]]:
        """Offsets of the batches committed in the target since the last call, oldest first."""
        with self._changed:
            applied, self._applied = self._applied, []
            return applied

    def drain(self) -> None:
        """Wait until every queued batch is applied (or the runner stops): before a rebalance
        reads where partitions resume, and before an epoch change rewinds them."""
        with self._changed:
            while self._pending and not self._stop.is_set() and self._thread.is_alive():
                self._changed.wait(0.1)

    def close(self, timeout: float = 60) -> None:
        """Apply what is queued (unless a retry is interrupted by the stop), then end the thread."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closing:
                    self._changed.wait()
                if not self._pending:
                    return
                batch = self._pending[0]
            applied = self._apply_until_done(batch)
            with self._changed:
                self._pending.popleft()
                if applied:
                    self._applied.append(batch.offsets)
                else:
                    self._pending.clear()     # stopped mid-retry: nothing later may be applied either
                self._changed.notify_all()
            if not applied:
                return

    def _apply_until_done(self, batch: DecodedBatch) -> bool:
        while True:
            try:
                self._apply_batch(batch)
                return True
            except Exception as exc:      # the database stayed down through apply's own retries
                log.exception("applying a batch failed; retrying it", extra={"events": len(batch.events)})
                if self._on_error is not None:
                    self._on_error(exc)
                if self._stop.wait(self._retry_seconds):
                    return False
