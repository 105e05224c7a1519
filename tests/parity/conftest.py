"""Session fixtures for the parity suite: the monolith and the catalog service as real processes,
each on its own database in the session's Postgres cluster, the service loaded from the monolith."""
from __future__ import annotations

import os

import psycopg
import pytest

from services.catalog.domain import DOMAIN
from services.common.carve.ownership import force_owner
from services.common.carve.snapshot import copy_snapshot
from tests.parity import processes
from tests.parity.catalog_requests import Actors
from tests.parity.tokens import access_token

PARITY_TRACKS = int(os.environ.get("PARITY_TRACKS", "3000"))


@pytest.fixture(scope="session")
def parity_env(pg_port, tmp_path_factory):
    logs = tmp_path_factory.mktemp("parity-logs")
    monolith_db = processes.ensure_database(pg_port, "parity_monolith", fresh=True)
    catalog_db = processes.ensure_database(pg_port, "parity_catalog", fresh=True)
    processes.prepare_monolith(monolith_db, PARITY_TRACKS)
    processes.prepare_catalog(catalog_db)
    copy_snapshot(DOMAIN, monolith_db, catalog_db)
    # Both sides take the suite's writes independently (no CDC between them): the copy owns its writes.
    force_owner(catalog_db, DOMAIN, "service", "parity suite")
    monolith = processes.start_monolith(monolith_db, logs, workers=1, threads=4)
    catalog = processes.start_catalog(catalog_db, logs)
    try:
        yield {"monolith": monolith, "catalog": catalog, "monolith_db": monolith_db, "catalog_db": catalog_db}
    finally:
        catalog.stop()
        monolith.stop()


@pytest.fixture(scope="session")
def actors(parity_env) -> Actors:
    with psycopg.connect(parity_env["monolith_db"]) as conn:
        admin = conn.execute("SELECT id FROM accounts_user WHERE role = 'admin' ORDER BY id LIMIT 1").fetchone()[0]
        user = conn.execute("SELECT id FROM accounts_user WHERE role = 'user' AND NOT is_staff AND is_active "
                            "ORDER BY id LIMIT 1").fetchone()[0]
        artist_user, profile = conn.execute(
            "SELECT u.id, a.id FROM accounts_user u JOIN catalog_artist a ON a.user_id = u.id "
            "WHERE u.role = 'artist' AND NOT u.is_staff ORDER BY a.id LIMIT 1").fetchone()
        other = conn.execute("SELECT id FROM catalog_artist WHERE user_id IS DISTINCT FROM %s ORDER BY id LIMIT 1",
                             (artist_user,)).fetchone()[0]
        inactive = conn.execute("SELECT id FROM accounts_user WHERE NOT is_active ORDER BY id LIMIT 1").fetchone()
    return Actors(admin=access_token(admin), user=access_token(user), artist=access_token(artist_user),
                  artist_profile_id=profile, other_artist_id=other,
                  inactive=access_token(inactive[0]) if inactive else None)
