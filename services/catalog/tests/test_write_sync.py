"""The catalog service's writes and the sync machinery around them, against real Postgres databases:
a write lands in the service and its outbox; the reverse sync replays it into the monolith's tables
with the same id and moves the monolith's sequence past it; the CDC echo of that write is not
re-applied; the snapshot copy and sequence alignment give the same ids on both sides."""
from __future__ import annotations

import psycopg

from cdc.consumer.envelope import ChangeEvent
from services.catalog.tests.conftest import admin_id
from tests.parity.tokens import access_token


async def test_write_is_replayed_into_the_monolith_once(databases, client):
    from sqlalchemy import create_engine

    from services.catalog.domain import DOMAIN
    from services.common.carve.forward_sync import EchoFilter
    from services.common.carve.reverse_sync import ReverseSync

    monolith, catalog = databases
    headers = {"Authorization": "Bearer " + access_token(admin_id(monolith))}
    created = await client.post("/api/v1/genres/", json={"name": "Sync Test", "slug": "sync-test"}, headers=headers)
    assert created.status_code == 201, created.text
    genre_id = created.json()["id"]
    with psycopg.connect(monolith) as conn:
        assert genre_id > conn.execute("SELECT max(id) FROM catalog_genre").fetchone()[0]   # no collision

    assert ReverseSync(DOMAIN, catalog, monolith).apply_pending() == 1
    with psycopg.connect(monolith) as conn:
        assert conn.execute("SELECT name, slug FROM catalog_genre WHERE id = %s", (genre_id,)).fetchone() == (
            "Sync Test", "sync-test")
        # The monolith's next insert gets a fresh id.
        assert conn.execute("SELECT last_value FROM catalog_genre_id_seq").fetchone()[0] >= genre_id

    with psycopg.connect(catalog) as conn:
        xid = conn.execute("SELECT xid FROM catalog_outbox_echo WHERE table_name = 'catalog_genre' AND row_id = %s",
                           (genre_id,)).fetchone()[0]
    engine = create_engine(catalog.replace("postgresql://", "postgresql+psycopg://"))
    keep = EchoFilter(DOMAIN, engine)
    echo = ChangeEvent("vobe.public.catalog_genre", 0, 1, {"id": genre_id}, "c", None,
                       {"id": genre_id, "name": "Sync Test", "slug": "sync-test", "description": ""},
                       10, 0, None, "public.catalog_genre", xid)
    other = ChangeEvent("vobe.public.catalog_genre", 0, 2, {"id": 1}, "u", None,
                        {"id": 1, "name": "x", "slug": "x", "description": ""}, 11, 0, None, "public.catalog_genre", xid + 1)
    batch = keep([echo, other])
    assert batch.skipped == [echo] and batch.outcome == "echo"     # consumed (offset, LSN), not applied
    assert batch.events == [other]
    with psycopg.connect(catalog) as conn:
        assert conn.execute("SELECT bool_and(echoed) FROM catalog_outbox WHERE row_id = %s", (genre_id,)).fetchone()[0]
    # A later monolith change of that row (another transaction) is applied normally.
    later = ChangeEvent("vobe.public.catalog_genre", 0, 3, {"id": genre_id}, "u", None,
                        {"id": genre_id, "name": "Renamed", "slug": "sync-test", "description": ""},
                        12, 0, None, "public.catalog_genre", xid + 2)
    assert keep([later]).events == [later]
    engine.dispose()


async def test_sync_status_needs_admin(databases, client):
    monolith, _ = databases
    assert (await client.get("/internal/sync-status")).status_code == 401
    status = await client.get("/internal/sync-status",
                              headers={"Authorization": "Bearer " + access_token(admin_id(monolith))})
    assert status.status_code == 200
    assert status.json()["sources"]["monolith"]["last_lsn_int"] > 0


async def test_probes_and_metrics(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok", "database": "ok"}
    await client.get("/api/v1/genres/")
    exposed = (await client.get("/metrics")).content
    assert b"http_requests_total" in exposed
    assert b'carve_outbox_parked_entries{domain="catalog"}' in exposed
