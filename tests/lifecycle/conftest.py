"""Fixtures for the catalog's tests on the real pieces: the carve kit's (tests/carve_kit/fixtures.py:
the session's Postgres cluster, a Tansu broker and the Debezium relay, a monolith database with demo
data, the catalog service's database and `python -m services.catalog.run`), for the catalog."""
from __future__ import annotations

import psycopg
import pytest

from tests.carve_kit.fixtures import *  # noqa: F401,F403
from tests.carve_kit.service import INTERNAL_TOKEN, CarvedDomain  # noqa: F401  (INTERNAL_API_TOKEN is set)
from tests.carve_kit.tables import checksums

CATALOG = CarvedDomain("services.catalog.domain", run="services.catalog.run")
# The tables named alike on both databases (not the users' copy, account_user of accounts_user).
CATALOG_TABLES = tuple(t for t in CATALOG.tables if CATALOG.source_of(t) == t)


@pytest.fixture(scope="session")
def carved():
    return CATALOG


@pytest.fixture(scope="session")
def catalog_url(carved_database):
    return carved_database


@pytest.fixture(scope="session")
def catalog_service(carved_service):
    return carved_service


def current_lsn(url: str) -> int:
    from cdc.lsn import lsn_to_int

    with psycopg.connect(url) as conn:
        return lsn_to_int(conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0])


def catalog_checksums(url: str) -> dict[str, tuple[int, str]]:
    """(row count, md5 over the rows in id order) per catalog table, on the declared columns; the
    same query on either database."""
    return checksums(CATALOG, url, on="service", tables=CATALOG_TABLES)
