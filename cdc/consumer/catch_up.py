"""Has a consumer applied everything the source committed before a given LSN? Decided per partition.

    target = lsn_to_int(<SELECT pg_current_wal_lsn()::text on the monolith>)
    behind = partitions_behind(engine, "catalog-service", topic_map.topics, target, bootstrap,
                               heartbeat_topic="vobe.cdc.heartbeat")
    if not behind: ...   # caught up

Why not "the highest applied LSN >= target": LSNs are per partition. The heartbeat topic (and any
quiet table) carries recent LSNs while a busy table's partition is still working through its
backlog, so the highest LSN over all partitions says "caught up" while catalog_track is behind.

A partition of the domain's own topics is caught up with `target_lsn` when
- its progress row (cdc_consumer_progress: the last applied offset and that event's LSN, written in
  the same transaction as the rows) has an LSN >= target_lsn: events reach a partition in commit
  order, so every later one committed after that event, which itself was written after the
  target; or
- the next message after the applied offset (offset 0 for a partition never consumed) does not
  exist, or its LSN is >= target_lsn (the same argument from the first event not applied).
  Tombstones and other messages without an LSN are read past. The next message is read with a
  short-lived consumer of its own (assign(), no group, nothing committed); "does not exist" is the
  broker's end-of-partition answer to a fetch at that offset, never a watermark (Tansu's
  ListOffsets watermarks are wrong, ../shared/design.md). A partition not answered before the
  timeout is reported behind: unknown is never caught up.

An event whose LSN is below the target but whose transaction committed after it (it was still
open when the target was read) also counts as behind; that only delays "caught up" until it is
applied.

Both checks see only what the broker holds, so a precondition: the source's changes before
target_lsn must have been delivered to the broker. Two ways to know it, in order of preference:
- `delivered_lsn`: the relay's own delivered position (its /status `last_event.lsn`): the LSN of
  the last event of a batch whose every record the broker acknowledged (batches are acknowledged
  in order), so everything committed before it is on the broker. Exact, where the relay is ours;
- otherwise the consumer's progress on the heartbeat topic (`heartbeat_topic`): Debezium's
  heartbeat (every 5 s) writes a row, so an applied heartbeat with LSN >= target_lsn was committed
  after the target and streamed after everything committed before it. This works against Kafka
  Connect too, for a consumer that follows heartbeats (ConsumerRunner's default). Its one gap: the
  relay's producer could still be retrying an earlier record to another partition (a delivery that
  failed while the heartbeat's succeeded); that record is then missing from the peek for a moment.
If the precondition fails, the answer holds a PartitionLag for the heartbeat topic (partition -1)
with reason "not-delivered", besides any table partition behind.

The heartbeat topic is never one of `topics`: it is the precondition, not a partition to wait on.
Only consumers that record progress rows (ChangeApplier) can be asked."""
from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Iterable, Optional

from confluent_kafka import Consumer, KafkaError, TopicPartition
from sqlalchemy import Select, select
from sqlalchemy.engine import Connection, Engine

from cdc.consumer.bookkeeping import consumer_progress
from cdc.consumer.envelope import PoisonEvent, decode
from cdc.consumer.runner import consumer_config
from cdc.lsn import int_to_lsn


@dataclass(frozen=True)
class PartitionProgress:
    """One partition's row of cdc_consumer_progress: what the consumer applied last there."""

    topic: str
    partition: int
    offset: int                  # last applied Kafka offset
    lsn: Optional[int]           # source LSN of that event
    applied_at: dt.datetime
    source_ts_ms: Optional[int] = None
    epoch: Optional[str] = None

    def as_dict(self) -> dict:
        """JSON for a status endpoint (the LSN both as pg_lsn text and as the integer)."""
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset,
                "lsn": int_to_lsn(self.lsn) if self.lsn is not None else None, "lsn_int": self.lsn,
                "applied_at": self.applied_at.isoformat() if self.applied_at else None,
                "source_ts_ms": self.source_ts_ms, "epoch": self.epoch}


@dataclass(frozen=True)
class PartitionLag:
    """A partition that has not applied everything before the target LSN."""

    topic: str
    partition: int                    # -1: the precondition (the source's changes not yet delivered)
    applied_offset: Optional[int]     # None: nothing applied (in this epoch)
    applied_lsn: Optional[int]
    next_offset: Optional[int]        # the first message not applied, if read
    next_lsn: Optional[int]
    reason: str                       # "behind", "unread" (no answer in time), "no-topic", "not-delivered"


def progress_statement(consumer_name: str, topics: Optional[Iterable[str]] = None) -> Select:
    """The SELECT behind partition_progress, for callers on an async session."""
    c = consumer_progress.c
    stmt = (select(c.topic, c.kafka_partition, c.kafka_offset, c.lsn, c.applied_at, c.source_ts_ms, c.epoch)
            .where(c.consumer == consumer_name).order_by(c.topic, c.kafka_partition))
    if topics is not None:
        stmt = stmt.where(c.topic.in_(list(topics)))
    return stmt


def progress_rows(rows) -> list[PartitionProgress]:
    return [PartitionProgress(*row) for row in rows]


def partition_progress(bind: Engine | Connection, consumer_name: str,
                       topics: Optional[Iterable[str]] = None) -> list[PartitionProgress]:
    """Per topic partition, what `consumer_name` applied last (for /internal/sync-status). On an
    AsyncSession: `progress_rows((await session.execute(progress_statement(name))).all())`."""
    stmt = progress_statement(consumer_name, topics)
    if isinstance(bind, Connection):
        return progress_rows(bind.execute(stmt).all())
    with bind.connect() as conn:
        return progress_rows(conn.execute(stmt).all())


def partitions_behind(engine: Engine | Connection, consumer_name: str, topics: Iterable[str], target_lsn: int,
                      bootstrap_servers: str, *, heartbeat_topic: Optional[str] = None,
                      delivered_lsn: Optional[int] = None, epoch: Optional[str] = None,
                      timeout: float = 5.0,
                      progress: Optional[Iterable[PartitionProgress]] = None) -> list[PartitionLag]:
    """Every partition of `topics` that has not applied all events with source LSN < target_lsn,
    and the precondition's entry if the source's changes before it are not delivered yet; an empty
    list means caught up. `epoch`: the relay epoch the consumer reads in; progress rows of another
    epoch count as nothing applied. See the module docstring for the rules."""
    topics = list(dict.fromkeys(topics))
    if heartbeat_topic is None and delivered_lsn is None:
        raise ValueError("say how to know the source's changes were delivered: heartbeat_topic or delivered_lsn")
    if heartbeat_topic is not None and heartbeat_topic in topics:
        raise ValueError(f"{heartbeat_topic} is the precondition, not one of the domain's topics")
    watched = topics + ([heartbeat_topic] if heartbeat_topic is not None and delivered_lsn is None else [])
    # `progress`: a consumer without progress rows (the search index) passes what it applied itself.
    rows = partition_progress(engine, consumer_name, watched) if progress is None else progress
    applied = {(p.topic, p.partition): p for p in rows if epoch is None or p.epoch == epoch}

    behind: list[PartitionLag] = []
    if delivered_lsn is None:
        heartbeat = max((p.lsn for (t, _), p in applied.items() if t == heartbeat_topic and p.lsn is not None),
                        default=None)
        delivered = heartbeat is not None and heartbeat >= target_lsn
        shown = heartbeat
    else:
        delivered, shown = delivered_lsn >= target_lsn, delivered_lsn
    if not delivered:
        behind.append(PartitionLag(heartbeat_topic or "relay", -1, None, shown, None, None, "not-delivered"))

    peek = _Peek(bootstrap_servers, target_lsn, timeout)
    try:
        for topic in topics:
            partitions = peek.partitions(topic)
            if partitions is None:
                behind.append(PartitionLag(topic, -1, None, None, None, None, "no-topic"))
                continue
            for partition in partitions:
                done = applied.get((topic, partition))
                if done is not None and done.lsn is not None and done.lsn >= target_lsn:
                    continue
                peek.add(topic, partition, done)
        behind += peek.run()
    finally:
        peek.close()
    return behind


class _Peek:
    """Reads, per partition, the first messages after the applied offset until one decides."""

    def __init__(self, bootstrap_servers: str, target_lsn: int, timeout: float):
        self.target_lsn = target_lsn
        self.timeout = timeout
        self.consumer = Consumer(consumer_config(bootstrap_servers, f"catch-up-peek-{uuid.uuid4().hex[:8]}",
                                                 **{"enable.partition.eof": True, "fetch.wait.max.ms": 10}))
        self.pending: dict[tuple[str, int], Optional[PartitionProgress]] = {}
        self._topics: Optional[dict] = None

    def partitions(self, topic: str) -> Optional[list[int]]:
        if self._topics is None:
            # Every topic at once: asking for one by name may create it on a broker that auto-creates.
            self._topics = self.consumer.list_topics(timeout=self.timeout).topics
        metadata = self._topics.get(topic)
        if metadata is None or metadata.error is not None:
            return None
        return sorted(metadata.partitions)

    def add(self, topic: str, partition: int, done: Optional[PartitionProgress]) -> None:
        self.pending[(topic, partition)] = done

    def run(self) -> list[PartitionLag]:
        if not self.pending:
            return []
        self.consumer.assign([TopicPartition(t, p, done.offset + 1 if done is not None else 0)
                              for (t, p), done in self.pending.items()])
        behind: list[PartitionLag] = []
        deadline = time.monotonic() + self.timeout
        while self.pending and time.monotonic() < deadline:
            message = self.consumer.poll(min(0.2, max(0.0, deadline - time.monotonic())))
            if message is None:
                continue
            topic, partition = message.topic(), message.partition()
            if topic is None or partition is None or (topic, partition) not in self.pending:
                continue
            slot = (topic, partition)
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._decided(slot)          # nothing after the applied offset
                continue
            lsn = self._lsn(message)
            if lsn is _NO_LSN:
                continue                         # a tombstone: its op=d came before it
            if lsn is not None and lsn >= self.target_lsn:
                self._decided(slot)
                continue
            done = self._decided(slot)
            behind.append(PartitionLag(slot[0], slot[1], _offset(done), _lsn_of(done), message.offset(), lsn,
                                       "behind"))
        for (topic, partition), done in self.pending.items():
            behind.append(PartitionLag(topic, partition, _offset(done), _lsn_of(done), None, None, "unread"))
        return behind

    def _decided(self, slot: tuple[str, int]) -> Optional[PartitionProgress]:
        self.consumer.pause([TopicPartition(*slot)])
        return self.pending.pop(slot)

    @staticmethod
    def _lsn(message):
        """The message's source LSN; _NO_LSN for a tombstone; None when it has none or cannot be
        decoded (the consumer has not passed it yet either way: behind)."""
        if message.value() is None:
            return _NO_LSN
        try:
            return decode(message.topic(), message.partition(), message.offset(), message.key(), message.value()).lsn
        except PoisonEvent:
            return None

    def close(self) -> None:
        self.consumer.close()


_NO_LSN = object()


def _offset(done: Optional[PartitionProgress]) -> Optional[int]:
    return done.offset if done is not None else None


def _lsn_of(done: Optional[PartitionProgress]) -> Optional[int]:
    return done.lsn if done is not None else None
