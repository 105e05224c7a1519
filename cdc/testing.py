"""Helpers for tests and benchmarks: replica tables in a target database, source/target
checksums, and the relay as a real child process (so kill -9 is real)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg
from psycopg import sql
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine

from cdc.settings import CDC_DIR

ROOT = CDC_DIR.parent


def mirror_tables(source_url: str, target: Engine, tables: list[str], exclude_columns: list[str] = ()) -> None:
    """Create same-named replica tables in the target: reflected from the source, primary keys kept,
    foreign keys, unique constraints and secondary indexes dropped (a replica applies rows per key
    in partition order, so a child may briefly arrive before its parent)."""
    source = create_engine(source_url.replace("postgresql://", "postgresql+psycopg://", 1))
    metadata = MetaData()
    names = [t.split(".", 1)[1] for t in tables]
    metadata.reflect(source, only=names)
    excluded = {tuple(c.split(".")[-2:]) for c in exclude_columns}
    for table in metadata.tables.values():
        table.foreign_keys.clear()
        for constraint in list(table.constraints):
            if constraint is not table.primary_key:
                table.constraints.discard(constraint)
        table.indexes.clear()
        for column in list(table.columns):
            column.server_default = None   # sequences belong to the source
            column.autoincrement = False
            column.unique = False
            column.index = False
            if (table.name, column.name) in excluded:
                table._columns.remove(column)
    metadata.create_all(target)
    source.dispose()


def table_checksum(url: str, table: str, order_by: str = "id", columns: list[str] | None = None) -> tuple[int, str]:
    """(row count, md5 of all rows as text in key order)."""
    with psycopg.connect(url) as conn:
        if columns:
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r.{o}), '')) "
                            "FROM (SELECT {c} FROM {t}) r").format(c=cols, t=sql.Identifier(table), o=sql.Identifier(order_by))
        else:
            query = sql.SQL("SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r.{o}), '')) FROM {t} r").format(
                t=sql.Identifier(table), o=sql.Identifier(order_by))
        count, digest = conn.execute(query).fetchone()
        return count, digest


def wait_until(predicate, timeout: float, interval: float = 0.25, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class RelayProcess:
    """`python -m cdc.relay` as a child process with its own slot and publication."""

    def __init__(self, *, source_url: str, bootstrap: str, port: int, slot: str, publication: str,
                 log_file: Path, extra_env: dict | None = None, connector_file: Path | None = None):
        self.env = {
            **os.environ,
            "CDC_SOURCE_DATABASE_URL": source_url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "CDC_RELAY_PORT": str(port), "CDC_SLOT_NAME": slot, "CDC_PUBLICATION_NAME": publication,
            "CDC_BROKER_CHECK_SECS": "1", "PYTHONPATH": str(ROOT),
            **({"CDC_CONNECTOR_FILE": str(connector_file)} if connector_file else {}),
            **(extra_env or {}),
        }
        self.port, self.log_file = port, log_file
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "cdc.relay"], env=self.env, cwd=ROOT,
                                            stdout=log, stderr=subprocess.STDOUT)

    def get(self, path: str) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
        except OSError:
            return 0, {}

    def wait_ready(self, timeout: float = 180) -> dict:
        def ready():
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"relay exited with {self.process.returncode}; see {self.log_file}")
            code, body = self.get("/readyz")
            return body if code == 200 else None
        return wait_until(ready, timeout, 0.5, "relay /readyz")

    def status(self) -> dict:
        return self.get("/status")[1]

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 60) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@contextmanager
def running_relay(*, source_url: str, bootstrap: str, port: int, slot: str, log_file: Path,
                  **options) -> Iterator[RelayProcess]:
    """A ready relay with its own slot and publication (both named `slot`), dropped afterwards."""
    from cdc.connector_config import remove_offsets_files
    from cdc.settings import CdcSettings
    from cdc.source_setup import drop_publication, drop_slot

    relay = RelayProcess(source_url=source_url, bootstrap=bootstrap, port=port, slot=slot, publication=slot,
                         log_file=log_file, **options)
    relay.start()
    try:
        relay.wait_ready()
        yield relay
    finally:
        relay.stop()
        drop_slot(source_url, slot)
        drop_publication(source_url, slot)
        remove_offsets_files(CdcSettings().state_dir, slot)


def seed_listener(url: str, name: str) -> tuple[int, int]:
    """A user and a track (with its artist) that listen events can point at: (user id, track id)."""
    with psycopg.connect(url, autocommit=True) as conn:
        user_id = conn.execute(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, role) VALUES ('x', false, %s, '', '', %s, false, true, now(), 'user') "
            "RETURNING id", (name, f"{name}@example.com")).fetchone()[0]
        artist_id = conn.execute("INSERT INTO catalog_artist (name, bio, country, image_url, created_at, updated_at) "
                                 "VALUES (%s, '', 'SE', '', now(), now()) RETURNING id", (name,)).fetchone()[0]
        track_id = conn.execute(
            "INSERT INTO catalog_track (title, artist_id, duration_ms, popularity, price, file_path, created_at, "
            "updated_at) VALUES (%s, %s, 1000, 0, 1.00, '', now(), now()) RETURNING id", (name, artist_id)).fetchone()[0]
    return user_id, track_id
