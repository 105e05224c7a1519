"""Fixtures for the catalog lifecycle tests, on the real pieces: the session's Postgres cluster
(tests/support/postgres_plugin.py), a Tansu broker and the Debezium relay as a child process
(reused from cdc/tests/conftest.py), a monolith database with demo data and a catalog service
database (tests/parity/processes.py), and the catalog service as `python -m services.catalog.run`.

The relay fixture of cdc/tests streams `source_url`; here `source_url` is the monolith database with
demo data, so the relay and the catalog service see the same monolith."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

from cdc.testing import ROOT, wait_until
from cdc.tests.conftest import broker, cdc_workdir, relay, run_id  # noqa: F401  (reused fixtures)
from services.catalog.domain import DOMAIN
from services.common.carve.snapshot import copy_snapshot
from tests.parity import processes

LIFECYCLE_TRACKS = int(os.environ.get("LIFECYCLE_TRACKS", "300"))
INTERNAL_TOKEN = "lifecycle-internal-token"
# The proxy CLI calls the service's write-ownership endpoint with it when it flips catalog-write.
os.environ["INTERNAL_API_TOKEN"] = INTERNAL_TOKEN
CATALOG_TABLES = ("catalog_genre", "catalog_artist", "catalog_album", "catalog_track")


@pytest.fixture(scope="session")
def source_url(pg_port, run_id):  # noqa: F811  (replaces cdc/tests' empty source database)
    """The monolith's database: migrated, with the deterministic demo catalogue."""
    name = f"lifecycle_monolith_{run_id}"
    url = processes.ensure_database(pg_port, name, fresh=True)
    processes.prepare_monolith(url, LIFECYCLE_TRACKS)
    yield url
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def catalog_url(pg_port, run_id, source_url):
    """The catalog service's database: migrated and loaded with the monolith's snapshot copy."""
    name = f"lifecycle_catalog_{run_id}"
    url = processes.ensure_database(pg_port, name, fresh=True)
    processes.prepare_catalog(url)
    copy_snapshot(DOMAIN, source_url, url)
    yield url
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class CatalogService:
    """`python -m services.catalog.run` (API + CDC apply + reverse sync) as a child process."""

    def __init__(self, *, catalog_url: str, monolith_url: str, bootstrap: str, log_dir: Path, group: str):
        self.port = processes.free_port()
        self.log_dir = log_dir
        self.env = {**os.environ, "CATALOG_DATABASE_URL": catalog_url, "MONOLITH_DATABASE_URL": monolith_url,
                    "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "CATALOG_CDC_GROUP": group,
                    "INTERNAL_API_TOKEN": INTERNAL_TOKEN, "PYTHONPATH": str(ROOT)}
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.log_dir / f"catalog-{self.starts}.log"

    def start(self, timeout: float = 120) -> None:
        self.starts += 1
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.catalog.run", "--port", str(self.port), "--workers", "1"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"catalog exited: {self.log.read_text()[-3000:]}")
            return self.get("/healthz")[0] == 200
        wait_until(ready, timeout, 0.3, "catalog /healthz")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(40)
        except subprocess.TimeoutExpired:
            # run.py did not stop its children: end the whole process group we created.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def get(self, path: str, headers: dict | None = None) -> tuple[int, object]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read()
                return response.status, (json.loads(body) if body else None)
        except urllib.error.HTTPError as error:
            body = error.read()
            try:
                return error.code, json.loads(body) if body else None
            except ValueError:
                return error.code, body
        except OSError:
            return 0, None

    def synced_lsn(self) -> int:
        code, body = self.get("/internal/sync-status", {"X-Internal-Token": INTERNAL_TOKEN})
        assert code == 200, body
        source = body["sources"].get("monolith")
        return source["last_lsn_int"] if source else 0

    def caught_up(self) -> bool:
        """Every partition of the domain's tables has applied the monolith's changes up to now."""
        code, body = self.get("/internal/sync-status?caught_up=true", {"X-Internal-Token": INTERNAL_TOKEN})
        assert code == 200, body
        return body["caught_up"]

    def write_owner(self) -> str:
        code, body = self.get("/internal/write-ownership", {"X-Internal-Token": INTERNAL_TOKEN})
        assert code == 200, body
        return body["owner"]

    def outbox_pending(self) -> int:
        code, body = self.get("/internal/sync-status", {"X-Internal-Token": INTERNAL_TOKEN})
        assert code == 200, body
        return body["outbox_pending"]


@pytest.fixture(scope="session")
def catalog_service(catalog_url, source_url, relay, broker, tmp_path_factory):  # noqa: F811
    service = CatalogService(catalog_url=catalog_url, monolith_url=source_url, bootstrap=broker.bootstrap,
                             log_dir=tmp_path_factory.mktemp("catalog-logs"),
                             group=f"catalog-lifecycle-{uuid.uuid4().hex[:8]}")
    service.start()
    try:
        yield service
    finally:
        service.stop()


def current_lsn(url: str) -> int:
    from cdc.lsn import lsn_to_int

    with psycopg.connect(url) as conn:
        return lsn_to_int(conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0])


def catalog_checksums(url: str) -> dict[str, tuple[int, str]]:
    """(row count, md5 over the rows in id order) per catalog table, on the columns both sides share."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in CATALOG_TABLES:
            columns = ", ".join(DOMAIN.by_target[table].column_names)
            out[table] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r.id), '')) "
                f"FROM (SELECT {columns} FROM {table}) r").fetchone()
    return out
