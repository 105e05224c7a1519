"""The monolith (gunicorn) and the catalog service (uvicorn) as real HTTP processes on free ports,
each with its own database in the test session's Postgres cluster. Shared by the parity suite, the
lifecycle test and the benchmark."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg

from stack.readiness import free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def ensure_database(pg_port: int, name: str, fresh: bool = False) -> str:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:{pg_port}/{name}"


def monolith_env(database_url: str) -> dict:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "vobemusic.settings.dev", "MONOLITH_DATABASE_URL": database_url,
            "REDIS_URL": "", "PYTHONPATH": str(ROOT)}


def prepare_monolith(database_url: str, tracks: int) -> None:
    """Migrate and load the deterministic demo data (skipped when the catalogue is already there)."""
    env = monolith_env(database_url)
    cwd = ROOT / "legacy_monolith"
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=cwd, env=env, check=True)
    subprocess.run([PYTHON, "manage.py", "generate_demo_data", "--tracks", str(tracks), "--if-empty"],
                   cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare_catalog(database_url: str) -> None:
    subprocess.run([PYTHON, "-m", "alembic", "-c", "services/catalog/alembic.ini", "upgrade", "head"],
                   cwd=ROOT, env={**os.environ, "CATALOG_DATABASE_URL": database_url}, check=True)


def replica_pair(pg_port: int, prefix: str, tracks: int) -> tuple[str, str]:
    """Fresh `<prefix>_monolith` (demo data) and `<prefix>_catalog` (a snapshot copy of it) databases."""
    from services.catalog.domain import DOMAIN
    from services.common.carve.snapshot import copy_snapshot

    monolith = ensure_database(pg_port, f"{prefix}_monolith", fresh=True)
    catalog = ensure_database(pg_port, f"{prefix}_catalog", fresh=True)
    prepare_monolith(monolith, tracks)
    prepare_catalog(catalog)
    copy_snapshot(DOMAIN, monolith, catalog)
    return monolith, catalog


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str = "/healthz", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_monolith(database_url: str, log_dir: Path, workers: int = 2, threads: int = 4, port: int = 0) -> Server:
    port = port or free_port()
    log = log_dir / "monolith.log"
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "vobemusic.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads)],
        cwd=ROOT / "legacy_monolith", env=monolith_env(database_url), stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    server = Server("monolith", process, port, log)
    server.wait_ready()
    return server


def start_catalog(database_url: str, log_dir: Path, workers: int = 1, port: int = 0, extra_env: dict | None = None) -> Server:
    port = port or free_port()
    log = log_dir / "catalog.log"
    env = {**os.environ, "CATALOG_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    process = subprocess.Popen(
        [PYTHON, "-m", "uvicorn", "services.catalog.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--no-access-log"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    server = Server("catalog", process, port, log)
    server.wait_ready()
    return server
