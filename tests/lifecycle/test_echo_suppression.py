"""Echo suppression and the reverse sync's guards around a flip back to legacy (runbook section
3.2), on real Postgres (no broker): the kit's reverse sync and the echo filter of the forward apply
are called directly, as in services/catalog/tests/test_write_sync.py, with the CDC events Debezium would
stream for the monolith's transactions (source.txId is the transaction's 32-bit xid).

An event is an echo only if it comes from the monolith transaction the reverse sync made for that
row; a monolith change made after a flip back must win on both sides, even for a row the service
wrote, and whether or not the service's write is still in the outbox."""
from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy import create_engine

from cdc.consumer.envelope import ChangeEvent
from services.catalog.domain import DOMAIN
from services.common.carve.forward_sync import EchoFilter
from services.common.carve.reverse_sync import ReverseSync
from tests.parity import processes

LSN = iter(range(10**12, 10**13))


@pytest.fixture(scope="module")
def databases(pg_port):
    yield processes.replica_pair(pg_port, "lifecycle_echo", 20)
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        for name in ("lifecycle_echo_monolith", "lifecycle_echo_catalog"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def keep(databases):
    engine = create_engine(databases[1].replace("postgresql://", "postgresql+psycopg://", 1))
    yield EchoFilter(DOMAIN, engine)
    engine.dispose()


def apply_pending(catalog: str, monolith: str) -> int:
    return ReverseSync(DOMAIN, catalog, monolith).apply_pending()


def service_write(catalog: str, table: str, row_id: int, changes: str, before: bool = False) -> int:
    """What the API does: change the row and record it in the outbox in one transaction."""
    with psycopg.connect(catalog) as conn:
        image = conn.execute(f"SELECT to_jsonb(t) FROM {table} t WHERE id = %s", (row_id,)).fetchone()[0]
        conn.execute(f"UPDATE {table} SET {changes} WHERE id = %s", (row_id,))
        row = conn.execute(f"SELECT to_jsonb(t) FROM {table} t WHERE id = %s", (row_id,)).fetchone()[0]
        return conn.execute("INSERT INTO catalog_outbox (table_name, row_id, op, row, before, created_at, echoed) "
                            "VALUES (%s, %s, 'upsert', %s, %s, now(), false) RETURNING id",
                            (table, row_id, json.dumps(row), json.dumps(image) if before else None)).fetchone()[0]


def monolith_change(monolith: str, table: str, row_id: int, statement: str) -> ChangeEvent:
    """Run `statement` in the monolith and return the CDC event Debezium streams for it."""
    with psycopg.connect(monolith) as conn:
        conn.execute(statement, (row_id,))
        xid = conn.execute("SELECT txid_current() % 4294967296").fetchone()[0]
        row = conn.execute(f"SELECT to_jsonb(t) FROM {table} t WHERE id = %s", (row_id,)).fetchone()
    op, after, before = ("d", None, {"id": row_id}) if row is None else ("u", row[0], None)
    return ChangeEvent(f"vobe.public.{table}", 0, next(LSN), {"id": row_id}, op, before, after, next(LSN), 0, None,
                       f"public.{table}", xid)


def recorded_echo(catalog: str, outbox_id: int) -> int:
    with psycopg.connect(catalog) as conn:
        return conn.execute("SELECT xid FROM catalog_outbox_echo WHERE outbox_id = %s", (outbox_id,)).fetchone()[0]


def echoed(catalog: str, outbox_id: int) -> bool:
    with psycopg.connect(catalog) as conn:
        return conn.execute("SELECT echoed FROM catalog_outbox WHERE id = %s", (outbox_id,)).fetchone()[0]


def first_id(url: str, table: str, offset: int) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT id FROM {table} ORDER BY id OFFSET %s LIMIT 1", (offset,)).fetchone()[0]


def test_monolith_write_after_flip_back_is_not_taken_for_an_echo(databases, keep):
    monolith, catalog = databases
    track_id = first_id(catalog, "catalog_track", 0)
    entry = service_write(catalog, "catalog_track", track_id, "title = 'service write', updated_at = now()")
    # Writes flipped back to legacy; the monolith changes the same row before the outbox is replayed.
    event = monolith_change(monolith, "catalog_track", track_id,
                            "UPDATE catalog_track SET title = 'monolith write', "
                            "updated_at = now() + interval '1 second' WHERE id = %s")
    assert apply_pending(catalog, monolith) == 1
    with psycopg.connect(monolith) as conn:   # the newer monolith write wins there (updated_at guard)
        assert conn.execute("SELECT title FROM catalog_track WHERE id = %s", (track_id,)).fetchone()[0] == "monolith write"
    # The replay changed nothing, so no echo will come back: the entry is settled at once.
    assert echoed(catalog, entry)
    # Debezium streams the monolith's own change; it is not an echo and must be applied.
    assert keep([event]).events == [event]


def test_echo_is_suppressed_and_a_later_monolith_change_of_the_row_applied(databases, keep):
    monolith, catalog = databases
    track_id = first_id(catalog, "catalog_track", 1)
    entry = service_write(catalog, "catalog_track", track_id, "title = 'service write', updated_at = now()")
    assert apply_pending(catalog, monolith) == 1
    assert not echoed(catalog, entry)
    with psycopg.connect(monolith) as conn:
        row = conn.execute("SELECT to_jsonb(t) FROM catalog_track t WHERE id = %s", (track_id,)).fetchone()[0]
    assert row["title"] == "service write"
    echo = ChangeEvent("vobe.public.catalog_track", 0, next(LSN), {"id": track_id}, "u", None, row, next(LSN), 0,
                       None, "public.catalog_track", recorded_echo(catalog, entry))
    # Flipped back before the echo arrived: the monolith changes the same row.
    update = monolith_change(monolith, "catalog_track", track_id,
                             "UPDATE catalog_track SET title = 'monolith write', updated_at = now() WHERE id = %s")

    batch = keep([echo, update])
    # The echo is not applied, but it still counts as consumed (the runtime records its offset and LSN).
    assert batch.skipped == [echo] and batch.outcome == "echo"
    assert batch.events == [update]
    assert echoed(catalog, entry)
    # Replayed after a crash (offsets not committed), the same batch gets the same decision.
    batch = keep([echo, update])
    assert batch.skipped == [echo] and batch.events == [update]


def test_genre_replay_does_not_overwrite_a_newer_monolith_change(databases, keep):
    """Genres have no updated_at; the replay is a compare-and-set on the row the service had."""
    monolith, catalog = databases
    changed_id, untouched_id = first_id(catalog, "catalog_genre", 0), first_id(catalog, "catalog_genre", 1)
    lost = service_write(catalog, "catalog_genre", changed_id, "description = 'service write'", before=True)
    kept = service_write(catalog, "catalog_genre", untouched_id, "description = 'service write'", before=True)
    event = monolith_change(monolith, "catalog_genre", changed_id,
                            "UPDATE catalog_genre SET description = 'monolith write' WHERE id = %s")
    assert apply_pending(catalog, monolith) == 2
    with psycopg.connect(monolith) as conn:
        descriptions = dict(conn.execute("SELECT id, description FROM catalog_genre WHERE id = ANY(%s)",
                                         ([changed_id, untouched_id],)).fetchall())
    assert descriptions == {changed_id: "monolith write", untouched_id: "service write"}
    assert echoed(catalog, lost) and not echoed(catalog, kept)
    assert keep([event]).events == [event]
