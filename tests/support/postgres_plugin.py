"""pytest plugin: every test session gets its own throwaway Postgres cluster (wal_level=logical)
on a free port, started before Django reads its settings.

Loaded with `-p tests.support.postgres_plugin` so it runs before pytest-django configures Django.
Set VOBE_TEST_PG_PORT to reuse an already running cluster instead (faster while iterating)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from stack.postgres_cluster import PostgresCluster
from stack.readiness import free_port

ROOT = Path(__file__).resolve().parents[2]
_cluster: PostgresCluster | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _cluster
    port = os.environ.get("VOBE_TEST_PG_PORT")
    if not port:
        base = ROOT / ".stack" / "test"
        base.mkdir(parents=True, exist_ok=True)
        home = Path(tempfile.mkdtemp(prefix="pg-", dir=base))
        _cluster = PostgresCluster(home / "data", free_port(), home / "run", home / "postgres.log")
        _cluster.initialise()
        _cluster.start()
        _cluster.wait_ready()
        port = str(_cluster.port)
        os.environ["VOBE_TEST_PG_PORT"] = port
    os.environ["MONOLITH_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{port}/vobemusic"


def pytest_unconfigure(config):
    if _cluster is not None:
        _cluster.stop("immediate")
        shutil.rmtree(_cluster.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_port() -> int:
    """Port of this session's Postgres cluster (trust auth, user postgres, 127.0.0.1)."""
    return int(os.environ["VOBE_TEST_PG_PORT"])
