"""The consumer loop services run: poll a batch, decode, apply to the target in one transaction,
then commit Kafka offsets (only after the database commit); poison goes to the dead-letter topic
before any progress past it is recorded. Restarting at any point re-reads at most the uncommitted
batch, which the LSN guard makes harmless.

Runs synchronously (`run()`, `run_once()`), on a thread (`start_background()`), or inside a
FastAPI app (`consumer_lifespan(runner)`); the database and Kafka calls block, so they stay off
the event loop."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from cdc.broker_epoch import BrokerEpoch, BrokerUnavailable
from cdc.consumer import metrics
from cdc.consumer.apply_change import ChangeApplier
from cdc.consumer.contracts import Applier, ApplyResult, EventFilter, FilteredBatch
from cdc.consumer.dead_letter import DeadLetterPublisher
from cdc.consumer.envelope import ChangeEvent, PoisonEvent, decode_message
from cdc.consumer.mapping import TopicMap

log = logging.getLogger("cdc.consumer")


def consumer_config(bootstrap_servers: str, group_id: str, **overrides) -> dict:
    """librdkafka settings measured on this machine (../shared/design.md): defaults give a 23 s
    group join and 250 ms p50; these give ~3 s and ~5-15 ms.

    fetch.wait.max.ms: Tansu answers a waiting fetch soon after data arrives, but every fetch costs
    it work per partition; an idle consumer of 68 partitions cost Tansu ~45-60 % of a core at 5 ms
    and ~25 % at 25 ms with the same p50 (benchmarks/cdc/fetch_probe.py, ADR 0003). 20 ms keeps
    the broker's CPU for the pipeline on a small machine."""
    config = {
        "bootstrap.servers": bootstrap_servers,
        "group.id": group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        # Never trust `latest` on Tansu (its watermarks are wrong); a new group reads everything.
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
        "fetch.wait.max.ms": 20,
        "fetch.min.bytes": 1,
        "queued.max.messages.kbytes": 256 * 1024,
        "topic.metadata.refresh.interval.ms": 2000,
        "allow.auto.create.topics": False,
    }
    config.update(overrides)
    return config


@dataclass
class RunnerStatus:
    consumer: str
    last_lsn: int | None = None
    last_source_ts_ms: int | None = None
    last_batch_at: float | None = None
    events_seen: int = 0
    applied: int = 0
    dead_lettered: int = 0
    epoch: str | None = None
    running: bool = False
    error: str | None = None

    def as_dict(self) -> dict:
        lag = None
        if self.last_source_ts_ms:
            lag = round(max(0.0, time.time() - self.last_source_ts_ms / 1000), 3)
        return {**vars(self), "source_staleness_seconds": lag}


class ConsumerRunner:
    def __init__(self, topic_map: TopicMap, target: Engine | str | None, *, group_id: str,
                 bootstrap_servers: str | None = None, dead_letter_topic: str | None = None,
                 batch_size: int = 5000, poll_timeout: float = 0.5, follow_heartbeats: bool = True,
                 epoch_check_secs: float = 5.0, consumer_overrides: dict | None = None,
                 on_applied: Callable[[ApplyResult, list[ChangeEvent]], None] | None = None,
                 applier: Applier | None = None, event_filter: EventFilter | None = None,
                 freeze_gc: bool = False):
        from cdc.settings import CdcSettings

        self.topic_map = topic_map
        self.name = group_id
        self.bootstrap_servers = bootstrap_servers or CdcSettings().bootstrap_servers
        # A consumer whose target is not mirror tables (the search index) passes its own `applier`
        # (cdc.consumer.Applier); `target` is then unused. Offsets are still committed only after
        # its apply returned.
        self.engine: Engine | None
        if applier is None:
            if target is None:
                raise ValueError("a ConsumerRunner without an applier needs a target database")
            engine = create_engine(target, pool_pre_ping=True) if isinstance(target, str) else target
            self.engine = engine
            applier = ChangeApplier(engine, topic_map, group_id)
        else:
            self.engine = None
            _check_applier(applier)
        self.applier: Applier = applier
        # Takes events out of each batch before apply (cdc.consumer.EventFilter): they are consumed
        # (offsets, progress, LSN) but not applied, and counted under the filter's outcome.
        self.event_filter = event_filter
        self.batch_size = batch_size
        # Opt-in, for a process whose main loop is this runner (see freeze_startup_objects): the
        # collector's effect is process-wide, so a host that runs the runner on a thread beside
        # its own work (the search service) decides that itself.
        self.freeze_gc = freeze_gc
        self.poll_timeout = poll_timeout
        self.on_applied = on_applied
        self.topics = list(topic_map.topics)
        if follow_heartbeats:
            # The heartbeat table's events keep "staleness" meaningful when the monolith is idle.
            self.topics.append(f"{topic_map.topic_prefix}.cdc.heartbeat")
        self.dead_letters = DeadLetterPublisher(self.bootstrap_servers,
                                                dead_letter_topic or f"{topic_map.topic_prefix}.dlq", group_id)
        self._consumer_settings = consumer_config(self.bootstrap_servers, group_id, **(consumer_overrides or {}))
        self._epoch: BrokerEpoch | None = BrokerEpoch(self.bootstrap_servers, f"{topic_map.topic_prefix}.relay-epoch")
        self._epoch_check_secs = epoch_check_secs
        self._next_epoch_check = time.monotonic() + epoch_check_secs
        self._stop = threading.Event()
        self.status = RunnerStatus(group_id)
        try:
            self.status.epoch = self._epoch.current(timeout=5)
        except BrokerUnavailable:
            pass
        self._consumer = self._subscribe()
        metrics.STALENESS.labels(group_id).set_function(
            lambda: max(0.0, time.time() - self.status.last_source_ts_ms / 1000) if self.status.last_source_ts_ms else 0.0)

    # -- the loop ----------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or self._stop
        if self.freeze_gc:
            freeze_startup_objects()
        self.status.running = True
        try:
            while not stop.is_set():
                try:
                    self._check_epoch()
                    messages = self._poll(self.poll_timeout)
                except Exception as exc:   # the broker is unreachable: keep polling
                    self._record_error(exc, "consumer poll failed; retrying")
                    stop.wait(1)
                    continue
                # A batch that fails (the database stayed down through apply's own retries) is
                # applied again, never skipped: the consumer's position is already past it, so
                # polling on would lose it once a later batch commits its offsets.
                while messages and not stop.is_set():
                    try:
                        self._handle(messages)
                        break
                    except Exception as exc:
                        self._record_error(exc, "consumer batch failed; applying it again")
                        stop.wait(1)
        finally:
            self.status.running = False
            self.dead_letters.close()    # a stopped runner holds no producer (made again if needed)

    def run_once(self, timeout: float | None = None) -> ApplyResult | None:
        """Poll one batch, apply it, commit; None when nothing arrived within the timeout."""
        self._check_epoch()
        messages = self._poll(self.poll_timeout if timeout is None else timeout)
        return self._handle(messages) if messages else None

    def _poll(self, timeout: float) -> list:
        first = self._consumer.poll(timeout)
        if first is None:
            return []
        messages = [first]
        if self.batch_size > 1:
            # Drain what is already fetched without waiting (consume() with a timeout would wait
            # for a full batch and add that wait to every single-row change's latency).
            messages += self._consumer.consume(self.batch_size - 1, 0)
        return messages

    def _record_error(self, exc: Exception, message: str) -> None:
        self.status.error = repr(exc)
        log.exception(message, extra={"consumer": self.name})

    def _handle(self, messages) -> ApplyResult | None:
        started = time.monotonic()
        events: list[ChangeEvent] = []
        poison: list[tuple[ChangeEvent, PoisonEvent]] = []
        offsets: dict[tuple[str, int], int] = {}
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() not in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    log.warning("consumer error", extra={"consumer": self.name, "error": str(error)})
                continue
            offsets[(message.topic(), message.partition())] = message.offset() + 1
            try:
                events.append(decode_message(message))
            except PoisonEvent as reason:
                poison.append((ChangeEvent(message.topic(), message.partition(), message.offset(), None,
                                           "undecodable", None, None, None, None, None, None, None, message), reason))
        if not offsets:
            return None
        self.applier.epoch = self.status.epoch    # recorded with the progress rows
        # Poison reaches the dead-letter topic before anything records progress past it (the
        # target's progress rows, then Kafka's offsets). A stop in between re-reads the batch: an
        # event may be dead-lettered twice, never skipped unrecorded.
        dead_letter = _OncePerEvent(self.dead_letters, self._stop)
        self.applier.dead_letter = dead_letter
        dead_letter(poison)
        decoded, filtered = events, None
        if self.event_filter is not None:
            filtered = _filtered(self.event_filter, events)
            events = filtered.events
        if filtered is not None and filtered.skipped:
            result = self.applier.apply(events, poison, filtered.skipped)
        else:
            # Positional and without `skipped` when there is nothing skipped: appliers written
            # before the filter existed (apply(events, poison)) keep working unchanged.
            result = self.applier.apply(events, poison)
        dead_letter(result.poison)
        try:
            self._consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                                  asynchronous=False)
        except KafkaException as exc:
            # The rows are committed in the target; a lost offset commit only means this batch may
            # be read again (and skipped by the LSN guard). The next batch's commit covers it.
            log.warning("offset commit failed", extra={"consumer": self.name, "error": str(exc)})
        self._account(result, decoded, filtered, time.monotonic() - started)
        if self.on_applied is not None:
            # Every decoded event of the batch, skipped ones included (they were consumed).
            self.on_applied(result, decoded)
        return result

    def _account(self, result: ApplyResult, events: list[ChangeEvent], filtered: FilteredBatch | None,
                 seconds: float) -> None:
        name = self.name
        metrics.BATCH_SECONDS.labels(name).observe(seconds)
        for outcome, count in (("applied", result.applied), ("skipped_older", result.skipped_older),
                               ("tombstone", result.tombstones), ("unmapped", result.unmapped),
                               ("dead_lettered", len(result.poison))):
            if count:
                metrics.EVENTS.labels(name, outcome).inc(count)
        if filtered is not None and filtered.skipped:
            metrics.EVENTS.labels(name, filtered.outcome).inc(len(filtered.skipped))
        self.status.events_seen += len(events) + sum(1 for e, _ in result.poison if e.op == "undecodable")
        self.status.applied += result.applied
        self.status.dead_lettered += len(result.poison)
        self.status.last_batch_at = time.time()
        if result.last_lsn is not None and (self.status.last_lsn is None or result.last_lsn >= self.status.last_lsn):
            self.status.last_lsn, self.status.last_source_ts_ms = result.last_lsn, result.last_source_ts_ms
            metrics.LAST_LSN.labels(name).set(result.last_lsn)
            if result.last_source_ts_ms:
                metrics.LAST_SOURCE_TS.labels(name).set(result.last_source_ts_ms / 1000)
        newest_ts_ms = max((e.source_ts_ms for e in events if e.source_ts_ms and e.snapshot in (None, "false")),
                           default=None)
        if newest_ts_ms is not None:
            metrics.APPLY_LATENCY.labels(name).observe(max(0.0, time.time() - newest_ts_ms / 1000))

    # -- broker epochs ---------------------------------------------------------------------
    # When the broker loses its data the relay starts a new epoch and snapshots into empty topics
    # that start again at offset 0. The progress table records the epoch with each applied offset;
    # on assignment a partition resumes after its applied offset only if that offset belongs to the
    # current epoch, otherwise it is read from the beginning (a stale position would skip the new
    # epoch's first events).
    def _subscribe(self) -> Consumer:
        consumer = Consumer(self._consumer_settings)
        consumer.subscribe(self.topics, on_assign=self._on_assign)
        return consumer

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        epoch = self.status.epoch
        applied = self.applier.resume_offsets()
        if applied is None:           # the applier keeps no progress: Kafka's committed offsets / earliest
            consumer.assign(partitions)
            return
        for tp in partitions:
            known = applied.get((tp.topic, tp.partition))
            if known is not None and (epoch is None or known[1] == epoch):
                tp.offset = known[0] + 1
            elif epoch is None:
                continue              # no relay epoch known: Kafka's committed offset / earliest
            else:
                tp.offset = OFFSET_BEGINNING
        consumer.assign(partitions)

    def _check_epoch(self) -> None:
        now = time.monotonic()
        if self._epoch is None or now < self._next_epoch_check:
            return
        self._next_epoch_check = now + self._epoch_check_secs
        try:
            epoch = self._epoch.current(timeout=2)
        except BrokerUnavailable:
            return
        if epoch is None or epoch == self.status.epoch:
            return
        previous, self.status.epoch = self.status.epoch, epoch
        if previous is None:
            return
        log.warning("relay started a new epoch: re-reading every partition from the beginning",
                    extra={"consumer": self.name, "old_epoch": previous, "epoch": epoch})
        metrics.EPOCH_RESETS.labels(self.name).inc()
        # Reset the positions in place. (A new consumer instance would rejoin the group, and Tansu
        # keeps the old member as group leader until it expires, so the rejoin can hang.)
        assigned = self._consumer.assignment()
        if assigned:
            self._consumer.assign([TopicPartition(tp.topic, tp.partition, OFFSET_BEGINNING) for tp in assigned])

    # -- lifecycle ---------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        try:
            self._consumer.close()
        finally:
            self.dead_letters.close()
            self._epoch = None   # drop the AdminClient with the runner

    def start_background(self) -> "BackgroundConsumer":
        return BackgroundConsumer(self)


def _check_applier(applier) -> None:
    """Once, at construction: the runner sets and calls these on every batch and assignment."""
    missing = [name for name in ("apply", "resume_offsets", "epoch", "dead_letter") if not hasattr(applier, name)]
    if missing:
        raise TypeError(f"{type(applier).__name__} is not a cdc.consumer.Applier: no {', '.join(missing)}")


def _filtered(event_filter: EventFilter, events: list[ChangeEvent]) -> FilteredBatch:
    batch = event_filter(events)
    # An event in neither list would have its offset committed with no progress recorded for it.
    if len(batch.events) + len(batch.skipped) != len(events):
        raise ValueError(f"event filter returned {len(batch.events)} + {len(batch.skipped)} skipped events "
                         f"for a batch of {len(events)}")
    return batch


class _OncePerEvent:
    """Publishes each poison event of one batch to the dead-letter topic once, whoever asks first."""

    def __init__(self, publisher: DeadLetterPublisher, stop: threading.Event):
        self._publisher, self._stop = publisher, stop
        self._sent: set[tuple[str, int, int]] = set()

    def __call__(self, poison: list[tuple[ChangeEvent, PoisonEvent]]) -> None:
        fresh = [(event, reason) for event, reason in poison
                 if (event.topic, event.partition, event.offset) not in self._sent]
        if fresh:
            self._publisher.publish(fresh, stop=self._stop)
            self._sent.update((event.topic, event.partition, event.offset) for event, _ in fresh)


class BackgroundConsumer:
    """The runner on a daemon thread; stop() ends the loop after the current batch and closes."""

    def __init__(self, runner: ConsumerRunner):
        self.runner = runner
        self.thread = threading.Thread(target=self._run, name=f"cdc-consumer-{runner.name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.runner.run()
        finally:
            self.runner.close()

    def stop(self, timeout: float = 30) -> None:
        self.runner.stop()
        self.thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()


@contextlib.asynccontextmanager
async def consumer_lifespan(runner: ConsumerRunner):
    """FastAPI: `app = FastAPI(lifespan=lambda app: consumer_lifespan(build_runner()))`, or nest it
    in the service's own lifespan. The loop runs on a thread; shutdown waits for it off the loop."""
    background = runner.start_background()
    try:
        yield background
    finally:
        await asyncio.to_thread(background.stop)


def freeze_startup_objects() -> None:
    """Collect once, then move every object alive now (modules, the SQLAlchemy metadata and
    compiled caches, the process's own state) into the collector's permanent generation.

    A batch keeps tens of thousands of container objects alive long enough to reach the oldest
    generation, so full collections come often while a stream flows, and each one rescanned every
    object alive since start-up: single pauses of 157-876 ms in the benchmark's consumer process,
    every thread of the process stopped meanwhile. Frozen objects are not scanned (ADR 0003, the
    collector section: longest pause and collector time with and without, in pairs).

    Process-wide, whichever thread calls it: the host's objects are frozen too and a reference
    cycle among them that becomes garbage later is never freed (reference counting still frees the
    rest); the gc.collect() first frees what is garbage now, and itself pauses every thread once.
    So it belongs where the process starts its consumer as its main work (ConsumerRunner's
    freeze_gc=True, the kit's forward sync: services/common/carve/cli.py), not inside a service that runs the runner on
    a thread beside its own requests."""
    gc.collect()
    gc.freeze()


def unique_group(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
