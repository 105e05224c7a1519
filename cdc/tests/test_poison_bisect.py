"""A batch the target rejects is bisected: exactly the rejected events become poison, everything
else is applied, and one poison event among n costs about log2(n) committed transactions."""
from __future__ import annotations

import math

import orjson
import pytest

from cdc.consumer import ChangeApplier, TopicMap
from cdc.consumer.envelope import decode
from cdc.consumer.mapping import TableMapping

TOPIC = "bisect.public.item"


def events(count: int, rejected: set[int]):
    out = []
    for i in range(count):
        value = {"op": "c", "before": None, "after": {"id": i, "qty": -1 if i in rejected else i},
                 "source": {"lsn": 1000 + i, "ts_ms": 1, "schema": "public", "table": "item"}}
        out.append(decode(TOPIC, 0, i, orjson.dumps({"id": i}), orjson.dumps(value)))
    return out


def applier(engine) -> ChangeApplier:
    return ChangeApplier(engine, TopicMap("bisect", [TableMapping("public.item", "item")]), "bisect-test")


@pytest.mark.parametrize("count, rejected", [(64, {37}), (300, {0, 150, 299}), (5, {0, 1, 2, 3, 4}), (1, {0})])
def test_bisection_isolates_exactly_the_rejected_events(item_target, count, rejected):
    applying = applier(item_target)
    result = applying.apply(events(count, rejected))

    assert sorted(event.offset for event, _ in result.poison) == sorted(rejected)
    assert {reason.reason for _, reason in result.poison} == {"target-rejected"}
    assert result.applied == count - len(rejected)
    with item_target.connect() as conn:
        ids = {row[0] for row in conn.exec_driver_sql("SELECT id FROM item")}
        progress = conn.exec_driver_sql("SELECT kafka_offset FROM cdc_consumer_progress "
                                        "WHERE consumer = 'bisect-test'").scalar_one()
    assert ids == set(range(count)) - rejected
    assert progress == count - 1          # poison is passed, not retried forever


def test_one_poison_event_costs_logarithmic_transactions(item_target):
    count = 1024
    applying = applier(item_target)
    result = applying.apply(events(count, {700}))
    assert [event.offset for event, _ in result.poison] == [700]
    # One committed half per level of the bisection, plus the progress row: not one per event.
    assert applying.transactions <= math.ceil(math.log2(count)) + 1


def test_a_clean_batch_is_one_transaction(item_target):
    applying = applier(item_target)
    result = applying.apply(events(500, set()))
    assert result.applied == 500 and not result.poison
    assert applying.transactions == 1


def progress_offset(engine):
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT max(kafka_offset) FROM cdc_consumer_progress "
                                    "WHERE consumer = 'bisect-test'").scalar()


def test_rejected_events_are_dead_lettered_before_progress_passes_them(item_target):
    applying = applier(item_target)
    handed = []

    def dead_letter(poison):
        handed.append(([event.offset for event, _ in poison], progress_offset(item_target)))

    applying.dead_letter = dead_letter
    applying.apply(events(64, {10, 40}))
    assert handed == [([10, 40], None)]       # no progress recorded when the topic got them
    assert progress_offset(item_target) == 63


def test_a_stop_while_dead_lettering_records_no_progress_past_the_poison(item_target):
    applying = applier(item_target)

    def stopped(_poison):
        raise InterruptedError("stopped before the dead-letter topic acknowledged")

    applying.dead_letter = stopped
    with pytest.raises(InterruptedError):
        applying.apply(events(64, {10}))
    # The batch is read again after a restart, and event 10 then reaches the dead-letter topic.
    assert progress_offset(item_target) is None
