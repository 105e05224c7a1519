"""Flip back to legacy while a service write is still in the outbox (runbook section 3.2): the
monolith's newer write to the same row must win on both sides. Postgres only (no broker): the
reverse sync and the echo filter of the forward apply are called directly, as in
services/catalog/tests/test_write_sync.py.

Known bug, kept as a strict xfail so it turns red once fixed: the echo filter treats *any* CDC event
for a row that has an outbox entry not yet marked echoed as the service's own echo. When the reverse
sync's upsert is a no-op (the monolith row is newer, so its `updated_at` guard skips it), no echo is
ever produced; the monolith's own newer change is then skipped as if it were the echo, and the
service keeps the older service write for good."""
from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy import create_engine

from cdc.consumer.envelope import ChangeEvent
from services.catalog.sync.forward import echo_filter
from services.catalog.sync.reverse import apply_pending
from services.catalog.sync.snapshot import copy_snapshot
from tests.parity import processes


@pytest.fixture(scope="module")
def databases(pg_port):
    monolith = processes.ensure_database(pg_port, "lifecycle_echo_monolith", fresh=True)
    catalog = processes.ensure_database(pg_port, "lifecycle_echo_catalog", fresh=True)
    processes.prepare_monolith(monolith, 20)
    processes.prepare_catalog(catalog)
    copy_snapshot(monolith, catalog)
    yield monolith, catalog
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        for name in ("lifecycle_echo_monolith", "lifecycle_echo_catalog"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.xfail(strict=True, reason="echo filter skips the monolith's newer write when the outbox replay was "
                                       "a no-op (services/catalog/sync/forward.py echo_filter)")
def test_monolith_write_after_flip_back_is_not_taken_for_an_echo(databases):
    monolith, catalog = databases
    with psycopg.connect(catalog) as conn:
        track_id = conn.execute("SELECT id FROM catalog_track ORDER BY id LIMIT 1").fetchone()[0]
        # The service's write (what the API does: the row and its outbox entry in one transaction).
        conn.execute("UPDATE catalog_track SET title = 'service write', updated_at = now() WHERE id = %s", (track_id,))
        row = conn.execute("SELECT to_jsonb(t) FROM catalog_track t WHERE id = %s", (track_id,)).fetchone()[0]
        conn.execute("INSERT INTO catalog_outbox (table_name, row_id, op, row, created_at, echoed) "
                     "VALUES ('catalog_track', %s, 'upsert', %s, now(), false)", (track_id, json.dumps(row)))
    # Writes flipped back to legacy; the monolith changes the same row before the outbox is replayed.
    with psycopg.connect(monolith) as conn:
        conn.execute("UPDATE catalog_track SET title = 'monolith write', updated_at = now() + interval '1 second' "
                     "WHERE id = %s", (track_id,))
    assert apply_pending(catalog, monolith) == 1
    with psycopg.connect(monolith) as conn:   # the newer monolith write wins there (updated_at guard)
        assert conn.execute("SELECT title FROM catalog_track WHERE id = %s", (track_id,)).fetchone()[0] == "monolith write"

    # Debezium then streams the monolith's own change; it is not an echo and must be applied.
    event = ChangeEvent("vobe.public.catalog_track", 0, 1, {"id": track_id}, "u", None,
                        {"id": track_id, "title": "monolith write"}, 10**12, 0, None, "public.catalog_track", 1)
    engine = create_engine(catalog.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        assert echo_filter(engine)([event]) == [event]
    finally:
        engine.dispose()
