"""A monolith database with demo data, a catalog database copied from it, and the service app on it
(in process, over ASGI)."""
from __future__ import annotations

import httpx
import psycopg
import pytest

from tests.parity import processes


@pytest.fixture(scope="module")
def databases(pg_port):
    from services.catalog.domain import DOMAIN
    from services.common.carve.ownership import force_owner

    monolith, catalog = processes.replica_pair(pg_port, "catalog_unit", 200)
    # These tests write through the service (no CDC runs here): it owns the catalog's writes.
    force_owner(catalog, DOMAIN, "service", "catalog unit tests")
    return monolith, catalog


@pytest.fixture()
async def client(databases, monkeypatch):
    monolith, catalog = databases
    monkeypatch.setenv("CATALOG_DATABASE_URL", catalog)
    monkeypatch.setenv("MONOLITH_DATABASE_URL", monolith)
    from services.catalog import config, database
    config.get_settings.cache_clear() if hasattr(config.get_settings, "cache_clear") else None
    database.database.cache_clear()
    from services.catalog.main import app

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as c:
        yield c
    await database.database().dispose()
    database.database.cache_clear()


def admin_id(url):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id FROM accounts_user WHERE role = 'admin' ORDER BY id LIMIT 1").fetchone()[0]
