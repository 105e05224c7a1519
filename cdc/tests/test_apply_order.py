"""The LSN guard on both write paths (a position upsert that returns the rows to write, by
executemany below COPY_THRESHOLD rows and through COPY above): an event older than what its row
reflects is skipped, whatever its op, and a newer one is applied; replaying a batch changes
nothing."""
from __future__ import annotations

import orjson
import pytest

from cdc.consumer import ChangeApplier, TopicMap
from cdc.consumer.apply_change import COPY_THRESHOLD
from cdc.consumer.envelope import decode
from cdc.consumer.mapping import TableMapping

TOPIC = "order.public.item"


def event(offset: int, op: str, item_id: int, qty: int | None, lsn: int):
    row = None if qty is None else {"id": item_id, "qty": qty}
    value = {"op": op, "before": {"id": item_id, "qty": 0} if op == "d" else None, "after": row,
             "source": {"lsn": lsn, "ts_ms": 1, "schema": "public", "table": "item"}}
    return decode(TOPIC, 0, offset, orjson.dumps({"id": item_id}), orjson.dumps(value))


def rows(engine) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT id, qty FROM item").all())


def positions(engine) -> dict[str, tuple[int, bool]]:
    with engine.connect() as conn:
        return {key: (lsn, deleted) for key, lsn, deleted in conn.exec_driver_sql(
            "SELECT row_key, lsn, deleted FROM cdc_row_position WHERE target_table = 'item'")}


@pytest.mark.parametrize("count", [COPY_THRESHOLD // 4, COPY_THRESHOLD * 2], ids=["executemany", "copy"])
def test_older_events_are_skipped_and_newer_applied(item_target, count):
    applying = ChangeApplier(item_target, TopicMap("order", [TableMapping("public.item", "item")]), "order-test")
    first = [event(i, "c", i, 10, lsn=1_000 + i) for i in range(count)]
    assert applying.apply(first).applied == count

    # Every third row gets an older update, every third a newer update, every third a delete;
    # the deletes of rows 0 mod 6 are older than the insert, those of 3 mod 6 newer.
    second, expected_rows, offset = [], {}, count
    for i in range(count):
        if i % 3 == 0:
            newer = i % 6 == 3
            second.append(event(offset, "d", i, None, lsn=(5_000 if newer else 10) + i))
            if not newer:
                expected_rows[i] = 10
        elif i % 3 == 1:
            second.append(event(offset, "u", i, 99, lsn=500 + i))     # older than the insert
            expected_rows[i] = 10
        else:
            second.append(event(offset, "u", i, 20, lsn=5_000 + i))
            expected_rows[i] = 20
        offset += 1
    older = sum(1 for i in range(count) if i % 3 == 1 or (i % 3 == 0 and i % 6 != 3))

    result = applying.apply(second)

    assert (result.applied, result.skipped_older) == (count - older, older)
    assert rows(item_target) == expected_rows
    recorded = positions(item_target)
    for i in range(count):
        deleted = i % 6 == 3
        newest = 5_000 + i if (i % 3 == 2 or deleted) else 1_000 + i
        assert recorded[str(i)] == (newest, deleted), i

    # A replay (the relay resent, the consumer restarted before its offset commit): nothing changes.
    replay = applying.apply(second)
    assert (replay.applied, replay.skipped_older) == (count - older, older)   # equal LSNs are written again ...
    assert rows(item_target) == expected_rows                                  # ... to the same result
    assert positions(item_target) == recorded
