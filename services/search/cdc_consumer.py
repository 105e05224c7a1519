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
from typing import Iterable, Optional

from cdc.consumer import ApplyResult, ChangeEvent, ConsumerRunner, PoisonEvent, TableMapping, TopicMap
from services.search import documents
from services.search.apply_change import RowChange, SearchIndexer
from services.search.replica import Replica
from services.search.settings import SearchSettings

logger = logging.getLogger("services.search.cdc")


def topic_map(prefix: str) -> TopicMap:
    # Targets are unused (IndexApplier writes the replica and the index); only the topics matter.
    return TopicMap(prefix, [TableMapping(f"public.{table}", table) for table in documents.SOURCE_TABLES])


def _table_of(event: ChangeEvent) -> str:
    return (event.table or event.topic).rsplit(".", 1)[-1]


class IndexApplier:
    """ChangeApplier's interface for ConsumerRunner, applying to the search replica and index."""

    def __init__(self, indexer: SearchIndexer, update_index: bool = True):
        self.indexer = indexer
        self.update_index = update_index

    def apply(self, events: list[ChangeEvent], poison: Iterable[tuple[ChangeEvent, PoisonEvent]] = ()) -> ApplyResult:
        result = ApplyResult(poison=list(poison))
        changes: list[RowChange] = []
        for event in events:
            if event.is_tombstone:
                result.tombstones += 1  # the op=d before it carried the delete
                continue
            table = _table_of(event)
            if table not in documents.SOURCE_TABLES:
                result.unmapped += 1    # heartbeats, tables search does not use
                continue
            try:
                row = event.row
                key = (event.key or {}).get("id", row.get("id") if row else None)
                if key is None:
                    raise PoisonEvent("no-key", f"{table} event without an id")
                if event.op != "d":
                    documents.clean_row(table, row)  # a row documents cannot be built from is poison
            except PoisonEvent as reason:
                result.poison.append((event, reason))
                continue
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                result.poison.append((event, PoisonEvent("bad-row", f"{type(exc).__name__}: {exc}")))
                continue
            changes.append(RowChange(table, int(key), None if event.op == "d" else event.after, event.lsn or 0))
            result.applied += 1
            if event.lsn is not None and (result.last_lsn is None or event.lsn >= result.last_lsn):
                result.last_lsn, result.last_source_ts_ms = event.lsn, event.source_ts_ms
        if self.update_index:
            # Heartbeats reach here every few seconds even when nothing changes, so a generation
            # published by a rebuild is picked up promptly.
            self.indexer.follow_generation()
        self.indexer.apply(changes, update_index=self.update_index)
        return result


class ChangeFeed:
    """The CDC consumer running on a background thread inside the service process."""

    def __init__(self, settings: SearchSettings, indexer: SearchIndexer):
        self.runner = ConsumerRunner(
            topic_map(settings.topic_prefix), None, group_id=settings.consumer_group,
            bootstrap_servers=settings.kafka_bootstrap_servers, applier=IndexApplier(indexer), batch_size=5000,
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


def replay_topics(settings: SearchSettings, replica: Replica, progress: bool = True, idle_seconds: float = 10) -> int:
    """Read every CDC topic from the beginning into the replica (not the index) with a throwaway
    consumer group; returns the number of changes. Done when no event arrived for `idle_seconds`:
    the broker's watermarks cannot be trusted on Tansu (docs/search.md)."""
    from services.search.rebuild import progress_bar

    indexer = SearchIndexer(replica, backend=None)
    runner = ConsumerRunner(topic_map(settings.topic_prefix), None, group_id=f"search-replay-{uuid.uuid4().hex[:8]}",
                            bootstrap_servers=settings.kafka_bootstrap_servers,
                            applier=IndexApplier(indexer, update_index=False), follow_heartbeats=False)
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
