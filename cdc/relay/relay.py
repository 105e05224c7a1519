"""The relay's lifecycle: set up the source, find the broker epoch, run the Debezium engine with a
delivery-confirming batch handler, watch broker/Postgres/engine, restart or re-snapshot as needed,
and stop cleanly on SIGTERM."""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, TypeVar

import orjson
from tenacity import Retrying, retry_if_exception_type, wait_exponential

from cdc.connector_config import ConnectorConfig
from cdc.lsn import lsn_to_int
from cdc.relay import metrics
from cdc.broker_epoch import BrokerEpoch, BrokerUnavailable
from cdc.relay.debezium_engine import DebeziumEngineRunner
from cdc.relay.delivery import BatchDelivery, DeliveryAborted
from cdc.relay.epoch_topics import EpochTopics
from cdc.relay.record_batch import RecordReader
from cdc.relay.http_server import serve
from cdc.settings import CdcSettings
from cdc.source_setup import setup_source, slot_info

log = logging.getLogger("cdc.relay")

COMMIT_SAMPLES = 32     # events parsed per batch for the commit -> ack histogram
SNAPSHOT_IN_PROGRESS = {"true", "first", "first_in_data_collection", "last_in_data_collection"}

_T = TypeVar("_T")


def _required(value: _T | None, what: str) -> _T:
    """`value`, set up by run() before anything that uses it."""
    if value is None:
        raise RuntimeError(f"relay used before its {what} was set up")
    return value


class Relay:
    def __init__(self, settings: CdcSettings, connector: ConnectorConfig):
        self.settings = settings
        self.connector = connector
        self._stop = threading.Event()
        self._abort = threading.Event()        # makes an in-flight delivery give up (engine stops unmarked)
        self._engine: DebeziumEngineRunner | None = None
        self._delivery: BatchDelivery | None = None
        self._epoch_marker: BrokerEpoch | None = None
        self._topics: EpochTopics | None = None
        self._reader: RecordReader | None = None
        self.epoch: str | None = None
        self.state = "starting"
        self.last: dict[str, Any] = {"lsn": None, "source_ts_ms": None, "topic": None, "snapshot": None, "delivered_at": None}
        self.events_delivered = 0
        self.broker_ok = False
        self.postgres_ok = False
        self.slot: dict | None = None
        self.resnapshots = 0
        self.engine_outcome: dict | None = None

    # -- the batch handler Debezium calls -------------------------------------------------------
    def handle_batch(self, records, committer) -> None:
        if self._abort.is_set():
            raise DeliveryAborted("relay is stopping")
        started = time.monotonic()
        messages = _required(self._reader, "record reader").read(records)
        handed_over = time.monotonic()
        _required(self._delivery, "delivery").deliver(messages)
        # Marking a record stores its source offset as the newest one of its source partition (the
        # connector has one): marking the batch's last record commits exactly what marking each
        # one would, with one JVM call instead of one per record.
        if messages:
            committer.markProcessed(records.get(len(messages) - 1))
        committer.markBatchFinished()
        metrics.HANDOVER_SECONDS.inc(handed_over - started)
        self._account(messages, time.monotonic() - handed_over)

    def _account(self, messages, seconds: float) -> None:
        metrics.BATCHES.inc()
        metrics.BATCH_SIZE.observe(len(messages))
        metrics.DELIVERY_SECONDS.observe(seconds)
        per_topic: dict[str, int] = {}
        changes = []           # values of the batch's change events (no heartbeats, no tombstones)
        last_topic = None
        for topic, _key, value in messages:
            per_topic[topic] = per_topic.get(topic, 0) + 1
            if value is None:
                metrics.TOMBSTONES.inc()
            elif not topic.startswith("__debezium-heartbeat"):
                changes.append(value)
                last_topic = topic
        for topic, count in per_topic.items():
            metrics.EVENTS.labels(topic).inc(count)
        self.events_delivered += len(messages)
        now = time.time()
        self.last["delivered_at"] = now
        if not changes:
            return
        self._observe_commit_to_ack(changes, now)
        source = _source_of(changes[-1])
        lsn, ts_ms = source.get("lsn"), source.get("ts_ms")
        if lsn is not None:
            self.last.update(lsn=lsn, source_ts_ms=ts_ms, topic=last_topic, snapshot=source.get("snapshot"))
            metrics.LAST_LSN.set(lsn)
        if ts_ms:
            metrics.LAST_SOURCE_TS.set(ts_ms / 1000)
        metrics.SNAPSHOT_RUNNING.set(1 if source.get("snapshot") in SNAPSHOT_IN_PROGRESS else 0)

    @staticmethod
    def _observe_commit_to_ack(values: list, now: float) -> None:
        """Source commit -> broker ack once per change event, not once per batch (a stalled batch of
        thousands would count once and hide the tail). Parsing every event would cost more than
        the rest of the accounting, so up to COMMIT_SAMPLES evenly spaced events are parsed and
        each stands for the events up to the next sample: those were committed at the same time
        or a little later (transactions arrive in commit order), so the tail is, if anything,
        overstated, never hidden."""
        step = -(-len(values) // COMMIT_SAMPLES)       # ceil: at most COMMIT_SAMPLES parses
        for start in range(0, len(values), step):
            source = _source_of(values[start])
            ts_ms = source.get("ts_ms")
            if ts_ms and source.get("snapshot") in (None, "false"):
                metrics.COMMIT_TO_ACK_SECONDS.observe(max(0.0, now - ts_ms / 1000), min(step, len(values) - start))

    # -- health ----------------------------------------------------------------------------
    def engine_running(self) -> bool:
        return self._engine is not None and self._engine.run_state.started.is_set() and self._engine.alive

    def health(self) -> tuple[bool, dict]:
        return True, {"state": self.state}

    def ready(self) -> tuple[bool, dict]:
        checks = {"engine": self.engine_running(), "broker": self.broker_ok, "postgres": self.postgres_ok}
        return all(checks.values()), {"state": self.state, "checks": checks}

    def status(self) -> dict:
        lag = None
        if self.last["source_ts_ms"]:
            lag = round(time.time() - self.last["source_ts_ms"] / 1000, 3)
        return {
            "state": self.state, "connector": self.connector.name, "epoch": self.epoch,
            "slot": self.slot, "slot_name": self.connector.slot_name,
            "publication": self.connector.publication_name, "topic_prefix": self.connector.topic_prefix,
            "broker_ok": self.broker_ok, "postgres_ok": self.postgres_ok, "engine_running": self.engine_running(),
            "events_delivered": self.events_delivered, "resnapshots": self.resnapshots,
            "last_event": self.last, "source_lag_seconds": lag, "engine_outcome": self.engine_outcome,
        }

    # -- lifecycle -------------------------------------------------------------------------
    def request_stop(self, *_args) -> None:
        log.info("stop requested")
        self._stop.set()

    def run(self) -> None:
        server = serve(self.settings.relay_host, self.settings.relay_port, self.health, self.ready, self.status)
        log.info("relay listening", extra={"url": self.settings.relay_url})
        try:
            self._wait_for(lambda: setup_source(self.settings.source_database_url, self.connector), "postgres")
            self.postgres_ok = True
            self._delivery = BatchDelivery(self.settings.bootstrap_servers, self._abort,
                                           on_failed_topics=self._recreate_missing_topics)
            epoch_marker = self._epoch_marker = BrokerEpoch(self.settings.bootstrap_servers, self.connector.epoch_topic)
            self._topics = EpochTopics(self.settings.bootstrap_servers, self.connector, self.settings.topic_partitions)
            reason = "start"
            while not self._stop.is_set():
                self.epoch, fresh = self._wait_for(self._enter_epoch, "broker")
                self.broker_ok = True
                if fresh and reason != "start":
                    self.resnapshots += 1
                    metrics.BROKER_RESETS.inc()
                log.info("engine starting", extra={"epoch": self.epoch, "fresh_epoch": fresh, "reason": reason})
                metrics.ENGINE_RESTARTS.labels(reason).inc()
                reason = self._run_engine(epoch_marker)
                if reason == "engine-failed":
                    self._stop.wait(5)
        finally:
            self.state = "stopped"
            if self._delivery is not None:
                self._delivery.close()
            server.shutdown()
            log.info("relay stopped")

    def _enter_epoch(self) -> tuple[str, bool]:
        """(epoch, fresh). A fresh epoch starts from empty topics that only the relay creates (see
        epoch_topics.py), written after the marker-less broker has been cleared of anything the
        previous epoch's engine left behind."""
        epoch_marker = _required(self._epoch_marker, "epoch marker")
        topics = _required(self._topics, "epoch topics")
        epoch = epoch_marker.current()
        if epoch is not None:
            topics.create()
            return epoch, False
        _required(self._delivery, "delivery").discard_pending()
        topics.wipe()
        topics.create()
        epoch = epoch_marker.start_new("no epoch marker on the broker")
        return epoch, True

    def _offsets_file(self) -> Path:
        """This epoch's offsets file; other epochs' files of the same slot are dropped (their
        offsets describe topics the broker no longer holds and must never be resumed from)."""
        path = self.connector.offsets_file(self.settings.state_dir, _required(self.epoch, "epoch"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{self.connector.slot_name}.*.dat"):
            if stale != path:
                stale.unlink(missing_ok=True)
        return path

    def _recreate_missing_topics(self, topics: set[str]) -> None:
        """A failed delivery: create its topics if they are missing in this epoch (a topic the
        connector writes that the relay did not know of); if the broker lost the epoch, give up."""
        try:
            epoch_topics = _required(self._topics, "epoch topics")
            missing = topics - epoch_topics.existing()
            if not missing:
                return
            if _required(self._epoch_marker, "epoch marker").current() != self.epoch:
                raise DeliveryAborted("the broker lost the epoch marker")
            epoch_topics.create(missing)
        except DeliveryAborted:
            raise
        except Exception as exc:     # broker unreachable: keep retrying the delivery
            log.warning("could not check the topics of a failed delivery", extra={"error": repr(exc)})

    def _wait_for(self, action, what: str):
        """Retry `action` (with backoff) until it works or a stop is requested."""
        def before_sleep(state):
            self.state = f"waiting-for-{what}"
            log.warning(f"{what} not available yet", extra={"error": repr(state.outcome.exception())})

        for attempt in Retrying(wait=wait_exponential(multiplier=0.5, max=10), before_sleep=before_sleep,
                                retry=retry_if_exception_type(Exception), reraise=True):
            if self._stop.is_set():
                raise SystemExit(0)
            with attempt:
                return action()

    def _run_engine(self, epoch_marker: BrokerEpoch) -> str:
        props = self.connector.embedded_properties(self.settings.source_database_url, self.settings.bootstrap_servers,
                                                   self._offsets_file())
        self._abort.clear()
        self._engine = DebeziumEngineRunner(props, self.handle_batch)
        self._reader = RecordReader.create()
        if not self._reader.batched:
            log.warning("record batch helper unavailable: one JVM call per record field")
        self._engine.start()
        self.state = "running"
        reason = "stop"
        try:
            while not self._stop.wait(self.settings.broker_check_secs):
                metrics.ENGINE_RUNNING.set(1 if self.engine_running() else 0)
                if self._engine.run_state.finished.is_set():
                    self.engine_outcome = vars(self._engine.run_state.outcome)
                    log.error("engine stopped by itself; restarting", extra=self.engine_outcome)
                    reason = "engine-failed"
                    break
                self._check_postgres()
                if not self._check_broker(epoch_marker):
                    log.warning("the broker lost the epoch marker (restarted empty?): re-snapshotting",
                                extra={"epoch": self.epoch})
                    reason = "broker-reset"
                    self._abort.set()   # deliveries to the emptied broker are pointless now
                    break
                if self.last["source_ts_ms"]:
                    metrics.SOURCE_LAG.set(max(0.0, time.time() - self.last["source_ts_ms"] / 1000))
        finally:
            self.state = "stopping-engine"
            self._close_engine()
            metrics.ENGINE_RUNNING.set(0)
        return reason

    def _close_engine(self) -> None:
        engine = _required(self._engine, "engine")
        closer = threading.Thread(target=engine.close, name="engine-close", daemon=True)
        closer.start()
        closer.join(15)
        if closer.is_alive():
            # A batch is stuck retrying delivery (broker down): give it up, it stays uncommitted.
            self._abort.set()
            closer.join(60)

    def _check_broker(self, epoch_marker: BrokerEpoch) -> bool:
        try:
            present = epoch_marker.present()
            self.broker_ok = True
            return present
        except BrokerUnavailable:
            self.broker_ok = False
            return True    # unknown, not lost: delivery blocks and retries until it is back

    def _check_postgres(self) -> None:
        try:
            self.slot = slot_info(self.settings.source_database_url, self.connector.slot_name)
            self.postgres_ok = True
        except Exception:
            self.postgres_ok = False
            return
        if self.slot:
            metrics.SLOT_BEHIND.set(self.slot["behind_bytes"] or 0)
            if self.last["lsn"] is not None:
                current = lsn_to_int(self.slot["current_lsn"])
                metrics.WAL_BEHIND.set(max(0, current - int(self.last["lsn"])))


def _source_of(value: bytes) -> dict:
    """The `source` block of a change event's JSON value ({} if it has none)."""
    try:
        source = orjson.loads(value).get("source")
    except (orjson.JSONDecodeError, AttributeError):
        return {}
    return source if isinstance(source, dict) else {}
