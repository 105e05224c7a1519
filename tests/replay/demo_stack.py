"""The pieces the corpus is recorded from and replayed against: the monolith on demo data and the
catalog service as the parity suite starts them (tests/parity/processes.py), plus the search
service on a SQLite replica and tantivy index built from a snapshot of the same database (CDC off)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg

from stack.readiness import free_port
from tests.parity import processes
from tests.parity.tokens import access_token

ROOT = processes.ROOT
CORPUS = Path(__file__).resolve().parent / "corpus"
TRACKS = 3000  # the demo data's size when the corpus was recorded (ids and filters refer to it)


def search_env(monolith_db: str, workdir: Path, port: int) -> dict:
    return {**os.environ, "SEARCH_DATABASE_URL": f"sqlite:///{workdir / 'search-replica.sqlite3'}",
            "SEARCH_INDEX_DIR": str(workdir / "search-index"), "MONOLITH_DATABASE_URL": monolith_db,
            "SEARCH_CONSUME_CDC": "false", "SEARCH_HOST": "127.0.0.1", "SEARCH_PORT": str(port),
            "PYTHONPATH": str(ROOT)}


def start_search(monolith_db: str, workdir: Path) -> processes.Server:
    port = free_port()
    env = search_env(monolith_db, workdir, port)
    subprocess.run([processes.PYTHON, "-m", "services.search.rebuild", "--if-needed", "--no-progress"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    log = workdir / "search.log"
    process = subprocess.Popen([processes.PYTHON, "-m", "services.search.app"], cwd=ROOT, env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    server = processes.Server("search", process, port, log)
    server.wait_ready()
    return server


def demo_user_token(monolith_db: str) -> str:
    """An access token of the demo data's plain user (`demo`), as the monolith mints them."""
    with psycopg.connect(monolith_db) as conn:
        row = conn.execute("SELECT id FROM accounts_user WHERE username = 'demo'").fetchone()
        if row is None:
            row = conn.execute("SELECT id FROM accounts_user WHERE role = 'user' AND is_active ORDER BY id "
                               "LIMIT 1").fetchone()
    return access_token(row[0], lifetime=3600)
