"""The search service's CDC feed: the shared consumer runtime (cdc.consumer) reading the monolith's
topics, with the search indexer as its apply target instead of mirror tables.

The runtime does the Kafka side (decoding, batching, dead-letter topic, offsets committed only
after apply returned, re-reading after a broker epoch change); `IndexApplier` turns a batch of
change events into one replica transaction and one index write (apply_change.py).
"""
from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable, Optional, Sequence

from cdc.consumer import (ApplyResult, ChangeEvent, ConsumerRunner, DeadLetterSink, PoisonEvent, RowDecoder,
                          TableMapping, TopicMap, prepare)
from services.search.apply_change import RowChange, SearchIndexer
from services.search.progress import progress_bar
from services.search.replica import Replica
from services.search.settings import SearchSettings
from services.search.sources import SOURCES, Source

logger = logging.getLogger("services.search.cdc")

# A row the documents cannot be built from (a cleaner's KeyError on a missing column, a bad value).
BAD_ROW = (KeyError, TypeError, ValueError, ArithmeticError)


def topic_map(prefix: str) -> TopicMap:
    # Targets are unused (IndexApplier writes the replica and the index); only the topics matter.
    return TopicMap(prefix, [TableMapping(source.source_table, source.table) for source in SOURCES])


def _row_decoder(source: Source) -> RowDecoder[RowChange]:
    """An event of one source table -> its RowChange (validated by the cleaner, so a row the
    documents cannot be built from is poison here rather than a failed batch later)."""
    table, clean = source.table, source.clean

    def decode(event: ChangeEvent) -> tuple[tuple[str, int], RowChange]:
        row = event.row
        key = (event.key or {}).get("id", row.get("id") if row else None)
        if key is None:
            raise PoisonEvent("no-key", f"{table} event without an id")
        key = int(key)
        if event.op != "d":
            clean(row)
        return (table, key), RowChange(table, key, None if event.op == "d" else event.after, event.lsn or 0)

    return decode


class IndexApplier:
    """The runtime's applier (cdc.consumer.Applier) for the search replica and index. It keeps no
    progress rows of its own: a partition resumes from Kafka's committed offsets."""

    def __init__(self, indexer: SearchIndexer, update_index: bool = True, topic_prefix: str = "vobe"):
        self.indexer = indexer
        self.update_index = update_index
        self.epoch: Optional[str] = None
        self.dead_letter: Optional[DeadLetterSink] = None
        # (topic, partition) -> what was applied last there (this process; the search index keeps no
        # progress rows): the applied position of /internal/sync-status (services/common/carve/position.py)
        self.progress: dict[tuple[str, int], Any] = {}
        topics = topic_map(topic_prefix)
        self.decoders = {topics.topic(mapping): _row_decoder(source) for mapping, source in zip(topics.tables, SOURCES)}

    def apply(self, events: list[ChangeEvent], poison: Iterable[tuple[ChangeEvent, PoisonEvent]] = (),
              skipped: Sequence[ChangeEvent] = ()) -> ApplyResult:
        result = ApplyResult(poison=list(poison))
        prepared = prepare(events, self.decoders, result, bad_row=BAD_ROW, track_lsn=True)
        result.applied = prepared.accepted
        if self.update_index:
            # Heartbeats reach here every few seconds even when nothing changes, so a generation
            # published by a rebuild is picked up promptly.
            self.indexer.follow_generation()
        self.indexer.apply(prepared.changes, update_index=self.update_index)
        # Applied (replica and index written): every consumed event counts, as a progress row would.
        for event in [*events, *(e for e, _ in result.poison), *skipped]:
            self._record(event)
        return result

    def _record(self, event: ChangeEvent) -> None:
        from cdc.consumer.catch_up import PartitionProgress

        slot = (event.topic, event.partition)
        known = self.progress.get(slot)
        if known is None or event.offset > known.offset:
            lsn = event.lsn if event.lsn is not None else (known.lsn if known is not None else None)
            self.progress[slot] = PartitionProgress(event.topic, event.partition, event.offset, lsn,
                                                    datetime.now(timezone.utc), event.source_ts_ms, self.epoch)

    def resume_offsets(self) -> None:
        return None


class ChangeFeed:
    """The CDC consumer running on a background thread inside the service process."""

    def __init__(self, settings: SearchSettings, indexer: SearchIndexer):
        self.runner = ConsumerRunner(
            topic_map(settings.topic_prefix), None, group_id=settings.consumer_group,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            applier=IndexApplier(indexer, topic_prefix=settings.topic_prefix), batch_size=5000,
            poll_timeout=0.5,
        )
        self.background = None

    def start(self) -> None:
        self.background = self.runner.start_background()

    def stop(self) -> None:
        if self.background is not None:
            self.background.stop()

    def problem(self) -> Optional[str]:
        """Readiness: the feed must be running. A stale feed still serves searches; staleness is a
        metric (cdc consumer metrics), not a reason to take the service out of rotation."""
        if self.background is None or not self.background.alive:
            return f"CDC consumer stopped: {self.runner.status.error or 'not started'}"
        return None

    def status(self) -> dict:
        return self.runner.status.as_dict()

    def position(self, settings: SearchSettings) -> dict:
        """The applied position, by the carve kit's rule, over this process's applied progress."""
        from services.common.carve.position import position_of

        applier = self.runner.applier
        progress = list(getattr(applier, "progress", {}).values())
        return position_of(progress, topic_map(settings.topic_prefix).topics, settings.kafka_bootstrap_servers)


def replay_topics(settings: SearchSettings, replica: Replica, progress: bool = True, idle_seconds: float = 10) -> int:
    """Read every CDC topic from the beginning into the replica (not the index) with a throwaway
    consumer group; returns the number of changes. Done when no event arrived for `idle_seconds`:
    the broker's watermarks cannot be trusted on Tansu (docs/search.md)."""
    indexer = SearchIndexer(replica, backend=None)
    runner = ConsumerRunner(topic_map(settings.topic_prefix), None, group_id=f"search-replay-{uuid.uuid4().hex[:8]}",
                            bootstrap_servers=settings.kafka_bootstrap_servers,
                            applier=IndexApplier(indexer, update_index=False, topic_prefix=settings.topic_prefix),
                            follow_heartbeats=False)
    total, last_event = 0, time.monotonic()
    try:
        with progress_bar(progress) as bar:
            task = bar.add_task("replay topics", total=None)
            while time.monotonic() - last_event < idle_seconds:
                result = runner.run_once(0.5)
                if result is not None and result.applied:
                    total += result.applied
                    last_event = time.monotonic()
                    bar.update(task, completed=total)
    finally:
        runner.close()
    return total
