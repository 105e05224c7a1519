"""Echo markers (catalog_outbox_echo) are pruned once settled, and echoes are counted as echoes.

A marker is needed until the CDC apply has seen its monolith transaction; it is kept a grace period
longer (a batch read again after a crash must get the same decision) and then deleted. Markers of
transactions never seen stay. The grace period is a parameter, so no test waits for a clock."""
from __future__ import annotations

import datetime as dt
import itertools

import psycopg
import pytest
from sqlalchemy import create_engine

from cdc.consumer.envelope import ChangeEvent
from services.catalog.domain import DOMAIN
from services.common.carve.forward_sync import EchoFilter
from services.common.carve.reverse_sync import ReverseSync

XIDS = itertools.count(4_000_000_000)
OUTBOX_IDS = itertools.count(9_000_000)


@pytest.fixture
def engine(databases):
    engine = create_engine(databases[1].replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


def marker(catalog: str, row_id: int) -> tuple[int, int]:
    """An outbox entry replayed by the monolith transaction `xid` (what the kit's reverse sync records)."""
    xid, outbox_id = next(XIDS), next(OUTBOX_IDS)
    with psycopg.connect(catalog) as conn:
        conn.execute("INSERT INTO catalog_outbox (id, table_name, row_id, op, row, created_at, applied_at, echoed) "
                     "VALUES (%s, 'catalog_genre', %s, 'upsert', '{}', now(), now(), false)", (outbox_id, row_id))
        conn.execute("INSERT INTO catalog_outbox_echo (xid, outbox_id, table_name, row_id) "
                     "VALUES (%s, %s, 'catalog_genre', %s)", (xid, outbox_id, row_id))
    return xid, outbox_id


def echo_of(xid: int, row_id: int, offset: int = 0) -> ChangeEvent:
    return ChangeEvent("vobe.public.catalog_genre", 0, offset, {"id": row_id}, "u", None,
                       {"id": row_id, "name": "x", "slug": "x", "description": ""}, 10 + offset, 0, None,
                       "public.catalog_genre", xid)


def markers(catalog: str, xids) -> dict[int, bool]:
    """xid -> seen, for the markers still there."""
    with psycopg.connect(catalog) as conn:
        return dict(conn.execute("SELECT xid, seen_at IS NOT NULL FROM catalog_outbox_echo WHERE xid = ANY(%s)",
                                 (list(xids),)).fetchall())


def test_seen_markers_are_pruned_after_the_grace_period_and_unseen_ones_kept(databases, engine):
    catalog = databases[1]
    seen, _ = marker(catalog, 1)
    unseen, _ = marker(catalog, 2)
    keep = EchoFilter(DOMAIN, engine, retention=dt.timedelta(0))
    assert keep([echo_of(seen, 1)]).skipped
    assert markers(catalog, [seen, unseen]) == {seen: True, unseen: False}

    later, _ = marker(catalog, 3)
    assert keep([echo_of(later, 3)]).skipped
    # The next batch with an echo deletes markers seen longer ago than the grace period (here 0).
    assert markers(catalog, [seen, unseen, later]) == {unseen: False, later: True}


def test_within_the_grace_period_a_batch_read_again_gets_the_same_decision(databases, engine):
    catalog = databases[1]
    xid, _ = marker(catalog, 4)
    keep = EchoFilter(DOMAIN, engine)
    batch = [echo_of(xid, 4)]
    assert keep(batch).skipped == batch
    assert keep(batch).skipped == batch
    assert markers(catalog, [xid]) == {xid: True}


def test_echoes_are_counted_as_echoes_not_tombstones(databases, engine):
    """The runner counts a filter's skipped events under its outcome (cdc/tests cover that part);
    here: echoes are the skipped ones, tombstones and genuine changes go on to apply."""
    catalog = databases[1]
    xid, _ = marker(catalog, 6)
    tombstone = ChangeEvent("vobe.public.catalog_genre", 0, 2, {"id": 7}, "tombstone", None, None, None, None, None,
                            None, None)
    genuine = echo_of(xid + 1, 6, offset=1)
    echo = echo_of(xid, 6)

    batch = EchoFilter(DOMAIN, engine)([echo, genuine, tombstone])

    assert batch.outcome == "echo" and batch.skipped == [echo]
    assert batch.events == [genuine, tombstone]        # the real tombstone is applied (counted) as one


def outbox_ids(catalog: str, ids) -> set[int]:
    with psycopg.connect(catalog) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM catalog_outbox WHERE id = ANY(%s)", (list(ids),))}


def test_replayed_outbox_entries_are_pruned_after_the_retention_and_pending_ones_kept(databases):
    prune_applied = ReverseSync(DOMAIN, databases[1], databases[0]).prune_applied
    catalog = databases[1]
    old, recent, pending = next(OUTBOX_IDS), next(OUTBOX_IDS), next(OUTBOX_IDS)
    with psycopg.connect(catalog) as conn:
        for entry_id, applied in ((old, "now() - interval '2 hours'"), (recent, "now()"), (pending, "NULL")):
            conn.execute(f"INSERT INTO catalog_outbox (id, table_name, row_id, op, row, created_at, applied_at, echoed) "
                         f"VALUES (%s, 'catalog_genre', 1, 'upsert', '{{}}', now() - interval '3 hours', {applied}, false)",
                         (entry_id,))
    assert prune_applied(dt.timedelta(hours=1)) >= 1
    assert outbox_ids(catalog, [old, recent, pending]) == {recent, pending}
    # Age alone never removes an entry still waiting to be replayed.
    prune_applied(dt.timedelta(0))
    assert outbox_ids(catalog, [old, recent, pending]) == {pending}
