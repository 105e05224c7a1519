"""A carved domain's service as a real process, and its database, for tests on the real pieces.

Everything is derived from the declaration module (which exports DOMAIN and get_settings) and the
kit's conventions: the service reads `<DOMAIN>_DATABASE_URL` and `<DOMAIN>_CDC_GROUP`
(carve/settings.py), migrates with `services/<domain>/alembic.ini`, and the proxy's route table
points at it through `<DOMAIN>_URL`."""
from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Optional

import psycopg

from cdc.testing import ROOT, wait_until
from tests.parity import processes

INTERNAL_TOKEN = "carve-kit-internal-token"
# The proxy CLI calls the service's write-ownership endpoint with it when it flips a write route.
os.environ["INTERNAL_API_TOKEN"] = INTERNAL_TOKEN
DEADLINE = 300


@dataclass(frozen=True)
class CarvedDomain:
    declaration: str            # "services.catalog.domain"
    run: str                    # "services.catalog.run" (carve/run.py: API + forward + reverse sync)

    @cached_property
    def domain(self):
        return importlib.import_module(self.declaration).DOMAIN

    @property
    def name(self) -> str:
        return self.domain.name

    @property
    def env_prefix(self) -> str:
        return self.name.upper()

    @property
    def alembic_ini(self) -> Path:
        return ROOT / "services" / self.name / "alembic.ini"

    @property
    def tables(self) -> tuple[str, ...]:
        """The service tables the domain mirrors (compared with the monolith's at the end)."""
        return tuple(t.target for t in self.domain.tables)

    def source_of(self, target: str) -> str:
        return self.domain.by_target[target].source


def drop_database(url: str) -> None:
    admin, name = url.rsplit("/", 1)
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def monolith_database(pg_port: int, name: str, tracks: int) -> str:
    """A migrated monolith database with the deterministic demo data."""
    url = processes.ensure_database(pg_port, name, fresh=True)
    processes.prepare_monolith(url, tracks)
    return url


def service_database(carved: CarvedDomain, pg_port: int, name: str, monolith_url: str) -> str:
    """The service's database: migrated and loaded with the monolith's snapshot copy."""
    from services.common.carve.snapshot import copy_snapshot

    url = processes.ensure_database(pg_port, name, fresh=True)
    subprocess.run([sys.executable, "-m", "alembic", "-c", str(carved.alembic_ini), "upgrade", "head"], cwd=ROOT,
                   env={**os.environ, f"{carved.env_prefix}_DATABASE_URL": url}, check=True)
    copy_snapshot(carved.domain, monolith_url, url)
    return url


class CarvedService:
    """`python -m <run module>` (API + CDC apply + reverse sync) as a child process, and the kit's
    internal endpoints as calls."""

    def __init__(self, carved: CarvedDomain, *, database_url: str, monolith_url: str, bootstrap: str,
                 log_dir: Path, group: Optional[str] = None, env: Optional[dict] = None):
        self.carved = carved
        self.database_url, self.monolith_url = database_url, monolith_url
        self.port = processes.free_port()
        self.log_dir = log_dir
        prefix = carved.env_prefix
        self.env = {**os.environ, f"{prefix}_DATABASE_URL": database_url, "MONOLITH_DATABASE_URL": monolith_url,
                    "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                    f"{prefix}_CDC_GROUP": group or f"{carved.name}-kit-{uuid.uuid4().hex[:8]}",
                    "INTERNAL_API_TOKEN": INTERNAL_TOKEN, "PYTHONPATH": str(ROOT), **(env or {})}
        self.process: Optional[subprocess.Popen] = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.log_dir / f"{self.carved.name}-{self.starts}.log"

    def start(self, *args: str, timeout: float = 120) -> "CarvedService":
        """Start it (`args`: e.g. "--no-cdc") and wait for /healthz."""
        self.starts += 1
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.carved.run, "--port", str(self.port), "--workers", "1", *args],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.carved.name} exited: {self.log.read_text()[-3000:]}")
            return self.get("/healthz")[0] == 200
        wait_until(ready, timeout, 0.3, f"{self.carved.name} /healthz")
        return self

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

    def restart(self, *args: str) -> None:
        self.stop()
        self.start(*args)

    # -- HTTP ------------------------------------------------------------------------------
    def request(self, method: str, path: str, body=None, headers: Optional[dict] = None,
                timeout: float = 30) -> tuple[int, object, dict]:
        """(status, JSON body or raw bytes, headers); status 0 when nothing answered."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw, answer_headers = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, answer_headers = error.code, error.read(), dict(error.headers)
        except OSError:
            return 0, None, {}
        try:
            return status, (json.loads(raw) if raw else None), answer_headers
        except ValueError:
            return status, raw, answer_headers

    def get(self, path: str, headers: Optional[dict] = None) -> tuple[int, object]:
        status, body, _ = self.request("GET", path, headers=headers)
        return status, body

    def internal(self, method: str, path: str, body=None, timeout: float = 150) -> dict:
        status, answer, _ = self.request(method, path, body, {"X-Internal-Token": INTERNAL_TOKEN}, timeout)
        assert status == 200, (method, path, status, answer)
        return answer

    # -- the kit's internal endpoints --------------------------------------------------------
    def sync_status(self, caught_up: bool = False, wait: float = 0, target_lsn: Optional[int] = None) -> dict:
        query = f"?caught_up=true&wait={wait:g}" if caught_up else ""
        if caught_up and target_lsn is not None:
            query += f"&target_lsn={target_lsn}"
        return self.internal("GET", "/internal/sync-status" + query)

    def synced_lsn(self) -> int:
        source = self.sync_status()["sources"].get("monolith")
        return source["last_lsn_int"] if source else 0

    def caught_up(self, wait: float = 10) -> bool:
        """Every partition of the domain's tables has applied the monolith's changes made before
        the call (waits up to `wait` s for the CDC heartbeat that confirms it)."""
        return self.sync_status(caught_up=True, wait=wait)["caught_up"]

    def wait_caught_up(self, timeout: float = DEADLINE) -> None:
        target = self.sync_status(caught_up=True, wait=0)["catch_up"]["target_lsn_int"]
        wait_until(lambda: self.sync_status(caught_up=True, wait=10, target_lsn=target)["caught_up"], timeout, 0.2,
                   f"every partition of {self.carved.name}'s tables caught up with the monolith")

    def outbox_pending(self) -> int:
        return self.sync_status()["outbox_pending"]

    def wait_outbox_empty(self, timeout: float = DEADLINE) -> None:
        wait_until(lambda: self.outbox_pending() == 0, timeout, 0.2, f"{self.carved.name} outbox drained")

    def write_owner(self) -> str:
        return self.internal("GET", "/internal/write-ownership")["owner"]

    def hand_over(self, owner: str, who: str = "carve-kit") -> dict:
        """POST /internal/write-ownership, as the proxy's flip of the write route does."""
        return self.internal("POST", "/internal/write-ownership", {"owner": owner, "who": who})

    def kit_cli(self, *args: str) -> subprocess.CompletedProcess:
        """`python -m services.common.carve.cli <declaration> ...` with the service's settings."""
        return subprocess.run([sys.executable, "-m", "services.common.carve.cli", self.carved.declaration, *args],
                              cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120)


def start_service(carved: CarvedDomain, *, database_url: str, monolith_url: str, bootstrap: str, log_dir: Path,
                  args: tuple[str, ...] = (), **options) -> CarvedService:
    """A started service (stop it with .stop())."""
    return CarvedService(carved, database_url=database_url, monolith_url=monolith_url, bootstrap=bootstrap,
                         log_dir=log_dir, **options).start(*args)
