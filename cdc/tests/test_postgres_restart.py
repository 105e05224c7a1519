"""Reliability: the source Postgres restarts while the monolith is writing. The relay reconnects
(same slot, confirmed position) and the target converges to the source (row counts and checksums).

The source lives in a dedicated cluster so that restarting it leaves the session cluster (and the
other tests' databases) alone; the broker is this module's own, so its topics and epoch marker are
not shared with the session relay."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine

from cdc.broker import EmbeddedBroker
from cdc.testing import ROOT, mirror_tables, running_relay, seed_listener, table_checksum, wait_until
from cdc.tests.support import new_runner
from stack.postgres_cluster import PostgresCluster
from tests.support.postgres_plugin import free_port

pytestmark = pytest.mark.slow

TABLES = ("listening_listenevent", "catalog_track")


@pytest.fixture(scope="module")
def source_cluster():
    home = Path(tempfile.mkdtemp(prefix="pg-restart-", dir=ROOT / ".stack" / "test"))
    cluster = PostgresCluster(home / "data", free_port(), home / "run", home / "postgres.log")
    cluster.initialise()
    cluster.start()
    cluster.wait_ready()
    try:
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def restart_source_url(source_cluster):
    source_cluster.ensure_database("vobemusic")
    url = source_cluster.url("vobemusic")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                   cwd=ROOT / "legacy_monolith", env={**os.environ, "MONOLITH_DATABASE_URL": url}, check=True)
    return url


@pytest.fixture(scope="module")
def restart_target_engine(pg_port, restart_source_url, connector):
    name = f"cdc_pgrestart_tgt_{uuid.uuid4().hex[:8]}"
    admin = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/{name}", pool_size=4)
    mirror_tables(restart_source_url, engine, connector.data_tables, connector.excluded_columns)
    yield engine
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def restart_broker(tmp_path_factory):
    broker = EmbeddedBroker(free_port(), log_file=tmp_path_factory.mktemp("pg-restart") / "tansu.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def restart_relay(restart_source_url, restart_broker, tmp_path_factory):
    with running_relay(source_url=restart_source_url, bootstrap=restart_broker.bootstrap, port=free_port(),
                       slot=f"cdc_pgrestart_{uuid.uuid4().hex[:8]}",
                       log_file=tmp_path_factory.mktemp("pg-restart") / "relay.log") as relay:
        yield relay


class RetryingWriter(threading.Thread):
    """The monolith's write load: small transactions (inserts, an update, now and then a delete),
    reconnecting and retrying whenever the database goes away."""

    def __init__(self, url: str, user_id: int, track_id: int, transactions: int):
        super().__init__(name="retrying-writer", daemon=True)
        self.url, self.user_id, self.track_id, self.transactions = url, user_id, track_id, transactions
        self.committed = 0
        self.failures = 0

    def run(self) -> None:
        conn = None
        i = 0
        while i < self.transactions:
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO listening_listenevent (user_id, track_id, played_at, play_duration_ms, "
                        "completion_percentage, platform, device_type) SELECT %s, %s, now(), g, 12.5, 'web', "
                        "'pg-restart' FROM generate_series(1, 10) g", (self.user_id, self.track_id))
                    conn.execute("UPDATE catalog_track SET popularity = %s WHERE id = %s", (i, self.track_id))
                    if i % 7 == 6:
                        conn.execute("DELETE FROM listening_listenevent WHERE id IN (SELECT id FROM listening_listenevent "
                                     "WHERE device_type = 'pg-restart' ORDER BY id LIMIT 2)")
                self.committed += 1
                i += 1
                time.sleep(0.02)
            except psycopg.OperationalError:
                # The commit may or may not have happened; the checksums compare what the source holds.
                self.failures += 1
                conn = None
                time.sleep(0.2)
        if conn is not None:
            conn.close()


def _converged(source_url: str, target_url: str) -> bool:
    return all(table_checksum(source_url, t) == table_checksum(target_url, t) for t in TABLES)


def test_source_restart_mid_writes_converges(source_cluster, restart_source_url, restart_relay, restart_broker,
                                            restart_target_engine, connector):
    target_url = restart_target_engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    user_id, track_id = seed_listener(restart_source_url, "writer")
    runner = new_runner(connector, restart_target_engine, restart_broker.bootstrap)
    background = runner.start_background()
    writer = RetryingWriter(restart_source_url, user_id, track_id, transactions=300)
    try:
        writer.start()
        wait_until(lambda: writer.committed >= 60, 120, 0.1, "writes under way")
        source_cluster.stop("fast")       # clients and the relay's replication connection are cut
        time.sleep(2)
        source_cluster.start()
        writer.join(300)
        assert not writer.is_alive() and writer.committed == 300
        assert writer.failures > 0, "the restart did not interrupt the writer"
        restart_relay.wait_ready()
        wait_until(lambda: _converged(restart_source_url, target_url), 240, 1, "target equals source after the restart")
    finally:
        background.stop()
    with psycopg.connect(restart_source_url) as conn:
        rows = conn.execute("SELECT count(*) FROM listening_listenevent WHERE device_type = 'pg-restart'").fetchone()[0]
        popularity = conn.execute("SELECT popularity FROM catalog_track WHERE id = %s", (track_id,)).fetchone()[0]
    assert rows >= 300 * 10 - (300 // 7) * 2 and popularity == 299
    assert restart_relay.status()["events_delivered"] > 0
