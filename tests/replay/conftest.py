"""The monolith on fresh demo data, the catalog service on a snapshot copy of it and the search
service built from the same rows: what the committed corpus is replayed against."""
from __future__ import annotations

import pytest

from services.catalog.domain import DOMAIN
from services.common.carve.ownership import force_owner
from tests.parity import processes
from tests.replay.demo_stack import TRACKS, demo_user_token, start_search


@pytest.fixture(scope="session")
def replay_stack(pg_port, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("replay")
    monolith_db, catalog_db = processes.replica_pair(pg_port, "replay", TRACKS)
    force_owner(catalog_db, DOMAIN, "service", "replay suite")  # no CDC here: the copy stands alone
    started = []
    try:
        started.append(monolith := processes.start_monolith(monolith_db, workdir, workers=1, threads=4))
        started.append(catalog := processes.start_catalog(catalog_db, workdir))
        started.append(search := start_search(monolith_db, workdir))
        yield {"monolith": monolith, "catalog": catalog, "search": search, "token": demo_user_token(monolith_db)}
    finally:
        for server in reversed(started):
            server.stop()
