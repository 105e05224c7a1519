"""ConsumerRunner's event filter: skipped events are not applied but consumed like any other (their
offsets committed, progress rows and LSN recorded in the batch's transaction) and counted under the
filter's outcome, not as tombstones; a batch of only skipped events still moves the position."""
from __future__ import annotations

import uuid

import orjson
import pytest
from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from cdc.consumer import ChangeApplier, ConsumerRunner, FilteredBatch, TableMapping, TopicMap, metrics
from cdc.consumer.envelope import decode
from cdc.testing import wait_until

TOPIC = "order.public.item"


def item_event(offset: int, item_id: int, qty: int, lsn: int, topic: str = TOPIC, partition: int = 0):
    value = {"op": "c", "before": None, "after": {"id": item_id, "qty": qty},
             "source": {"lsn": lsn, "ts_ms": 1_000 + offset, "schema": "public", "table": "item"}}
    return decode(topic, partition, offset, orjson.dumps({"id": item_id}), orjson.dumps(value))


def rows(engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT id, qty FROM item").all())


def progress(engine, consumer: str) -> dict[tuple[str, int], tuple[int, int]]:
    with engine.connect() as conn:
        return {(t, p): (o, lsn) for t, p, o, lsn in conn.exec_driver_sql(
            "SELECT topic, kafka_partition, kafka_offset, lsn FROM cdc_consumer_progress WHERE consumer = %s",
            (consumer,))}


def test_skipped_events_advance_progress_and_lsn_in_the_same_transaction(item_target):
    applying = ChangeApplier(item_target, TopicMap("order", [TableMapping("public.item", "item")]), "skip-test")
    kept, skipped = [item_event(0, 1, 5, lsn=100)], [item_event(1, 2, 7, lsn=200), item_event(2, 3, 9, lsn=300)]
    before = applying.transactions

    result = applying.apply(kept, (), skipped)

    assert rows(item_target) == {1: 5}
    assert (result.applied, result.tombstones) == (1, 0)
    assert progress(item_target, "skip-test") == {(TOPIC, 0): (2, 300)}
    assert (result.last_lsn, result.last_source_ts_ms) == (300, 1_002)
    assert applying.transactions == before + 1


def test_only_skipped_events_still_record_progress(item_target):
    applying = ChangeApplier(item_target, TopicMap("order", [TableMapping("public.item", "item")]), "skip-all")
    result = applying.apply([], (), [item_event(4, 1, 1, lsn=500), item_event(5, 2, 2, lsn=600)])
    assert rows(item_target) == {}
    assert result.applied == 0 and result.last_lsn == 600
    assert progress(item_target, "skip-all") == {(TOPIC, 0): (5, 600)}


# -- through the runner and a real broker ---------------------------------------------------------
@pytest.fixture
def item_topic(broker):
    """A fresh topic prefix with a two-partition item topic; events as (partition, id, qty, lsn)."""
    prefix = f"flt{uuid.uuid4().hex[:8]}"
    topic = f"{prefix}.public.item"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(30)

    def produce(events):
        producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": False})
        for partition, item_id, qty, lsn in events:
            value = {"op": "c", "before": None, "after": {"id": item_id, "qty": qty},
                     "source": {"lsn": lsn, "ts_ms": 1, "schema": "public", "table": "item"}}
            producer.produce(topic, key=orjson.dumps({"id": item_id}), value=orjson.dumps(value), partition=partition)
        assert producer.flush(30) == 0

    return prefix, topic, produce


def runner_for(prefix, item_target, broker, event_filter):
    return ConsumerRunner(TopicMap(prefix, [TableMapping("public.item", "item")]), item_target,
                          group_id=f"{prefix}-group", bootstrap_servers=broker.bootstrap, follow_heartbeats=False,
                          event_filter=event_filter, epoch_check_secs=3600)


def committed(runner, topic) -> dict[int, int]:
    found = runner._consumer.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=10)
    return {tp.partition: tp.offset for tp in found}


def run_until_consumed(runner, engine, topic, expected: dict[int, tuple[int, int]]):
    """Run batches until the progress rows are `expected` (partition -> (offset, lsn))."""
    def done():
        runner.run_once(0.5)
        return {p: v for (t, p), v in progress(engine, runner.name).items() if t == topic} == expected
    wait_until(done, 60, 0, f"progress {expected}")


def test_runner_applies_kept_events_and_counts_skipped_ones_under_the_outcome(item_target, broker, item_topic):
    prefix, topic, produce = item_topic
    produce([(0, 1, 10, 100), (0, 2, 11, 110), (0, 3, 12, 120), (1, 4, 13, 130), (1, 5, 14, 140)])

    def odd_quantities_are_echoes(events):
        echoes = [e for e in events if e.after["qty"] % 2]
        return FilteredBatch([e for e in events if not e.after["qty"] % 2], echoes, "echo")

    runner = runner_for(prefix, item_target, broker, odd_quantities_are_echoes)
    try:
        run_until_consumed(runner, item_target, topic, {0: (2, 120), 1: (1, 140)})
        assert rows(item_target) == {1: 10, 3: 12, 5: 14}
        assert metrics.EVENTS.labels(runner.name, "echo")._value.get() == 2
        assert metrics.EVENTS.labels(runner.name, "applied")._value.get() == 3
        assert metrics.EVENTS.labels(runner.name, "tombstone")._value.get() == 0
        assert runner.status.last_lsn == 140 and runner.status.events_seen == 5
        assert committed(runner, topic) == {0: 3, 1: 2}
    finally:
        runner.close()


def test_a_filter_that_skips_everything_still_commits_offsets(item_target, broker, item_topic):
    prefix, topic, produce = item_topic
    produce([(0, 1, 1, 200), (0, 2, 2, 210), (1, 3, 3, 220)])

    runner = runner_for(prefix, item_target, broker, lambda events: FilteredBatch([], list(events), "echo"))
    try:
        run_until_consumed(runner, item_target, topic, {0: (1, 210), 1: (0, 220)})
        assert rows(item_target) == {}
        assert committed(runner, topic) == {0: 2, 1: 1}
        assert runner.status.last_lsn == 220
        assert metrics.EVENTS.labels(runner.name, "echo")._value.get() == 3
    finally:
        runner.close()


def test_a_filter_that_loses_events_fails_the_batch(item_target, broker, item_topic):
    prefix, topic, produce = item_topic
    produce([(0, 1, 1, 300)])
    runner = runner_for(prefix, item_target, broker, lambda events: FilteredBatch([], [], "echo"))
    try:
        with pytest.raises(ValueError, match="event filter returned"):
            wait_until(lambda: runner.run_once(0.5) is not None, 60, 0, "a batch")
        assert progress(item_target, runner.name) == {}
    finally:
        runner.close()
