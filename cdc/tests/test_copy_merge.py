"""COPY-size batches (copy_merge.py) keep the runtime's rules: older events than a row's position
are skipped, deletes are remembered, and the result matches the statement-per-step path used for
small batches."""
from __future__ import annotations

import uuid

import orjson
import psycopg
import pytest
from sqlalchemy import create_engine

from cdc.consumer import ChangeApplier, TopicMap
from cdc.consumer.apply_change import COPY_THRESHOLD
from cdc.consumer.envelope import decode
from cdc.consumer.mapping import TableMapping

TOPIC = "merge.public.item"
BIG = COPY_THRESHOLD + 50


@pytest.fixture
def target(pg_port):
    name = f"cdc_merge_{uuid.uuid4().hex[:8]}"
    admin = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/{name}", pool_size=1)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE item (id integer PRIMARY KEY, qty integer NOT NULL, "
                             "price numeric(8, 2), seen_at timestamptz)")
    yield engine
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def upsert(i: int, lsn: int, qty: int, offset: int = 0):
    value = {"op": "u", "before": None,
             "after": {"id": i, "qty": qty, "price": f"{qty}.25", "seen_at": "2026-11-23T16:00:00.5Z"},
             "source": {"lsn": lsn, "ts_ms": 1, "schema": "public", "table": "item"}}
    return decode(TOPIC, 0, offset, orjson.dumps({"id": i}), orjson.dumps(value))


def delete(i: int, lsn: int, offset: int = 0):
    # listening_listenevent keeps the default replica identity: the before image is the key only.
    value = {"op": "d", "before": {"id": i}, "after": None,
             "source": {"lsn": lsn, "ts_ms": 1, "schema": "public", "table": "item"}}
    return decode(TOPIC, 0, offset, orjson.dumps({"id": i}), orjson.dumps(value))


def applier(engine) -> ChangeApplier:
    return ChangeApplier(engine, TopicMap("merge", [TableMapping("public.item", "item")]), "merge-test")


def state(engine):
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, qty, price::text, seen_at::text FROM item ORDER BY id").all()
        positions = conn.exec_driver_sql("SELECT row_key, lsn, deleted FROM cdc_row_position ORDER BY row_key::int").all()
    return [tuple(r) for r in rows], [tuple(p) for p in positions]


def scenario(applying: ChangeApplier, size: int) -> list:
    """Creates, an older replay, deletes mixed with updates, then an older create of a deleted row."""
    results = [applying.apply([upsert(i, 1000 + i, qty=1, offset=i) for i in range(size)])]
    results.append(applying.apply([upsert(i, 10 + i, qty=99, offset=size + i) for i in range(size)]))
    mixed = [delete(i, 5000 + i, offset=i) if i % 2 else upsert(i, 5000 + i, qty=2, offset=i) for i in range(size)]
    results.append(applying.apply(mixed))
    results.append(applying.apply([upsert(i, 2000 + i, qty=7, offset=i) for i in range(size)]))
    return [(r.applied, r.skipped_older, len(r.poison)) for r in results]


def test_copy_size_batches_skip_older_events_and_remember_deletes(target):
    counts = scenario(applier(target), BIG)
    assert counts == [(BIG, 0, 0), (0, BIG, 0), (BIG, 0, 0), (0, BIG, 0)]
    rows, positions = state(target)
    assert rows == [(i, 2, "2.25", "2026-11-23 16:00:00.5+00") for i in range(0, BIG, 2)]
    assert positions == [(str(i), 5000 + i, bool(i % 2)) for i in range(BIG)]


def test_copy_merge_matches_the_small_batch_path(target, pg_port):
    big = applier(target)
    scenario(big, BIG)
    expected = state(target)
    with target.begin() as conn:
        conn.exec_driver_sql("TRUNCATE item, cdc_row_position")
    small = applier(target)
    # The same events in batches below the COPY threshold.
    for batch in ([upsert(i, 1000 + i, qty=1) for i in range(BIG)],
                  [upsert(i, 10 + i, qty=99) for i in range(BIG)],
                  [delete(i, 5000 + i) if i % 2 else upsert(i, 5000 + i, qty=2) for i in range(BIG)],
                  [upsert(i, 2000 + i, qty=7) for i in range(BIG)]):
        for start in range(0, BIG, COPY_THRESHOLD // 2):
            small.apply(batch[start:start + COPY_THRESHOLD // 2])
    assert state(target) == expected


def test_two_column_sets_of_one_table_in_one_batch(target):
    # A delete's key-only image and full rows are two column sets: two fills of one stage.
    events = [delete(i, 100 + i, offset=i) if i < BIG else upsert(i, 100 + i, qty=3, offset=i) for i in range(2 * BIG)]
    applying = applier(target)
    applying.apply([upsert(i, 1 + i, qty=1) for i in range(BIG)])
    result = applying.apply(events)
    assert (result.applied, result.skipped_older, result.poison) == (2 * BIG, 0, [])
    rows, positions = state(target)
    assert [r[0] for r in rows] == list(range(BIG, 2 * BIG))
    assert sum(1 for p in positions if p[2]) == BIG
