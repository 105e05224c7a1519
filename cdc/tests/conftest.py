"""End-to-end fixtures on real components: a source database (the monolith's migrations) and a
target database in the session's Postgres cluster (tests/support/postgres_plugin.py), a Tansu
broker on a free port, and the relay as a child process with its own slot. Module/session scoped
so the JVM starts as few times as possible; teardown drops the slot and the publication."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine

from cdc.broker import EmbeddedBroker
from cdc.connector_config import ConnectorConfig
from cdc.settings import DEFAULT_CONNECTOR_FILE
from cdc.testing import ROOT, mirror_tables, running_relay
from tests.support.postgres_plugin import free_port


@pytest.fixture(scope="session")
def connector() -> ConnectorConfig:
    return ConnectorConfig.load(DEFAULT_CONNECTOR_FILE)


@pytest.fixture(scope="session")
def cdc_workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cdc")


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


def _create_database(pg_port: int, name: str) -> str:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:{pg_port}/{name}"


def _drop_database(pg_port: int, name: str) -> None:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def source_url(pg_port, run_id):
    """A fresh monolith database, migrated exactly as the README says."""
    name = f"cdc_src_{run_id}"
    url = _create_database(pg_port, name)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                   cwd=ROOT / "legacy_monolith", env={**os.environ, "MONOLITH_DATABASE_URL": url}, check=True)
    yield url
    _drop_database(pg_port, name)


@pytest.fixture(scope="session")
def target_url(pg_port, run_id, source_url, connector):
    name = f"cdc_tgt_{run_id}"
    url = _create_database(pg_port, name)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    mirror_tables(source_url, engine, connector.data_tables, connector.excluded_columns)
    engine.dispose()
    yield url
    _drop_database(pg_port, name)


@pytest.fixture(scope="session")
def target_engine(target_url):
    engine = create_engine(target_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def broker(cdc_workdir):
    broker = EmbeddedBroker(free_port(), log_file=cdc_workdir / "tansu.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def relay(source_url, broker, run_id, cdc_workdir):
    slot = f"cdc_test_{run_id}"
    with running_relay(source_url=source_url, bootstrap=broker.bootstrap, port=free_port(), slot=slot,
                       log_file=cdc_workdir / "relay.log") as relay:
        relay.slot = slot
        yield relay


@pytest.fixture
def source(source_url):
    with psycopg.connect(source_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def item_target(pg_port):
    """A fresh database with one table, item (id, qty >= 0), for ChangeApplier tests."""
    name = f"cdc_items_{uuid.uuid4().hex[:8]}"
    admin = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/{name}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE item (id integer PRIMARY KEY, qty integer NOT NULL CHECK (qty >= 0))")
    yield engine
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
