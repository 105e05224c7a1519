"""The catalog cutover cycle from issue 5 on the real pieces, under a steady write load:
the monolith (gunicorn) and the catalog service (`python -m services.catalog.run`) behind the routing
proxy (`python -m proxy` with the project's proxy/routes.yaml), Debezium relay + Tansu in between.

catalog-read goes legacy -> shadow -> canary 50 -> new, then catalog-write goes to new (service
writes flow back to the monolith through the outbox), then both go back to legacy; flips use the
proxy CLI. Every request through the proxy must succeed, and at the end the four catalog tables have
equal row counts and checksums on both databases.

Reads never pause. Writes pause only around the write flips, as the runbook's freeze
(docs/runbooks/cutover-catalog.md section 2: caught up, outbox empty, sequences aligned)."""
from __future__ import annotations

import shutil
import threading
import time
import uuid

import httpx
import psycopg
import pytest

from cdc.testing import ROOT, wait_until
from proxy.tests.conftest import ADMIN_TOKEN, RunningProxy, _start, closed_port_url
from tests.lifecycle.conftest import catalog_checksums
from tests.parity import processes
from tests.parity.tokens import access_token

pytestmark = pytest.mark.slow
DEADLINE = 300
OPS_PER_STAGE = 15          # write operations the load makes in every stage before the next flip


class Load:
    """One writer (create / update / delete of tracks, albums, artists it created itself) and one
    reader (lists and details of demo rows nobody writes), both through the proxy."""

    def __init__(self, proxy_url: str, token: str, artist_id: int, read_ids: dict):
        self.client = httpx.Client(base_url=proxy_url, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.artist_id, self.read_ids = artist_id, read_ids
        self.failures: list[str] = []
        self.writes = self.reads = 0
        self.stop = threading.Event()
        self.writes_allowed = threading.Event()
        self.writes_allowed.set()
        self.writer_idle = threading.Event()
        self.mine: dict[str, list[int]] = {"tracks": [], "albums": [], "artists": []}
        self.threads = [threading.Thread(target=self._write_loop, daemon=True),
                        threading.Thread(target=self._read_loop, daemon=True)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.writes_allowed.set()
        for thread in self.threads:
            thread.join(120)
        self.client.close()

    def _check(self, response: httpx.Response, expected: tuple[int, ...], what: str) -> bool:
        if response.status_code not in expected:
            self.failures.append(f"{what}: {response.status_code} {response.text[:300]}")
            return False
        return True

    def _request(self, method: str, path: str, expected: tuple[int, ...], **kwargs):
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            self.failures.append(f"{method} {path}: {error!r}")
            return None
        return response if self._check(response, expected, f"{method} {path}") else None

    def _write_once(self, step: int) -> None:
        tag = uuid.uuid4().hex[:6]
        kind = ("tracks", "tracks", "albums", "tracks", "artists")[step % 5]
        if kind == "tracks":
            body = {"title": f"Load {tag}", "artist_id": self.artist_id, "duration_ms": 200000, "price": "0.99"}
        elif kind == "albums":
            body = {"title": f"Load Album {tag}", "artist_id": self.artist_id}
        else:
            body = {"name": f"Load Artist {tag}"}
        created = self._request("POST", f"/api/v1/{kind}/", (201,), json=body, headers=self.headers)
        if created is not None:
            self.mine[kind].append(created.json()["id"])
        mine = self.mine[kind]
        if len(mine) >= 2:
            field = "name" if kind == "artists" else "title"
            self._request("PATCH", f"/api/v1/{kind}/{mine[-2]}/", (200,), json={field: f"Patched {tag}"},
                          headers=self.headers)
        if step % 3 == 2 and len(mine) >= 3:
            self._request("DELETE", f"/api/v1/{kind}/{mine.pop(0)}/", (204,), headers=self.headers)
        self.writes += 1

    def _write_loop(self) -> None:
        step = 0
        while not self.stop.is_set():
            if not self.writes_allowed.is_set():
                self.writer_idle.set()
                self.writes_allowed.wait()
                continue
            self.writer_idle.clear()
            self._write_once(step)
            step += 1
            time.sleep(0.05)
        self.writer_idle.set()

    def _read_loop(self) -> None:
        paths = [f"/api/v1/tracks/{self.read_ids['track']}/", "/api/v1/tracks/?page=2",
                 f"/api/v1/artists/{self.read_ids['artist']}/albums/", f"/api/v1/albums/{self.read_ids['album']}/",
                 "/api/v1/genres/", "/api/v1/tracks/popular/"]
        step = 0
        while not self.stop.is_set():
            # A new canary cookie per request spreads the requests over both sides of a canary.
            self._request("GET", paths[step % len(paths)], (200,), headers={"Cookie": f"vobe_cid={uuid.uuid4().hex}"})
            self.reads += 1
            step += 1
            time.sleep(0.02)

    def pause_writes(self) -> None:
        self.writer_idle.clear()
        self.writes_allowed.clear()
        wait_until(self.writer_idle.is_set, DEADLINE, 0.1, "writer paused")

    def resume_writes(self) -> None:
        self.writes_allowed.set()

    def run_for(self, ops: int) -> None:
        target = self.writes + ops
        wait_until(lambda: self.writes >= target or self.failures, DEADLINE, 0.2, f"{ops} more writes")
        assert not self.failures, self.failures[:10]


@pytest.fixture
def monolith(source_url, tmp_path):
    server = processes.start_monolith(source_url, tmp_path, workers=1, threads=4)
    yield server
    server.stop()


@pytest.fixture
def proxy(monolith, catalog_service, tmp_path):
    routes = tmp_path / "routes.yaml"
    shutil.copy(ROOT / "proxy" / "routes.yaml", routes)
    port_file = tmp_path / "proxy.port"
    env = {"PROXY_PORT": "0", "PROXY_PORT_FILE": str(port_file), "PROXY_ROUTES_FILE": str(routes),
           "PROXY_DATA_DIR": str(tmp_path / "proxy-data"), "PROXY_ADMIN_TOKEN": ADMIN_TOKEN,
           "PROXY_HEALTH_INTERVAL": "1", "MONOLITH_URL": monolith.url, "CATALOG_URL": catalog_service.url,
           "SEARCH_URL": closed_port_url()}
    process = _start("proxy", ["-m", "proxy"], env, tmp_path)
    running = RunningProxy(process, routes, tmp_path / "proxy-data", {**env, "PROXY_ADMIN_URL": process.url})
    yield running
    process.stop()


def flip(proxy: RunningProxy, route: str, mode: str, percent: int | None = None) -> None:
    args = ["set", route, mode] + ([str(percent)] if percent is not None else []) + ["--who", "lifecycle-test"]
    result = proxy.cli(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = "canary" if mode == "canary" else mode
    assert proxy.route_mode(route) == expected


def served(proxy: RunningProxy, route: str) -> dict[str, int]:
    """Requests the route has sent to each upstream so far."""
    routes = proxy.admin("GET", "/_proxy/routes").json()["routes"]
    return next(r["stats"]["by_upstream"] for r in routes if r["name"] == route)


def wait_caught_up(catalog_service, source_url: str) -> None:
    wait_until(catalog_service.caught_up, DEADLINE, 0.5, "every partition of the catalog's tables caught up")


def wait_outbox_empty(catalog_service) -> None:
    wait_until(lambda: catalog_service.outbox_pending() == 0, DEADLINE, 0.3, "outbox drained")


def test_reads_then_writes_to_new_and_back_under_write_load(proxy, catalog_service, source_url, catalog_url):
    with psycopg.connect(source_url) as conn:
        admin = conn.execute("SELECT id FROM accounts_user WHERE role = 'admin' ORDER BY id LIMIT 1").fetchone()[0]
        artist, album = conn.execute("SELECT artist_id, id FROM catalog_album ORDER BY id LIMIT 1").fetchone()
        track = conn.execute("SELECT id FROM catalog_track ORDER BY id LIMIT 1").fetchone()[0]
    flip(proxy, "catalog-read", "legacy")
    flip(proxy, "catalog-write", "legacy")
    with psycopg.connect(catalog_url) as conn:
        assert conn.execute("SELECT count(*) FROM catalog_outbox").fetchone()[0] == 0
    wait_caught_up(catalog_service, source_url)

    with Load(proxy.url, access_token(admin, lifetime=3600), artist,
              {"track": track, "artist": artist, "album": album}) as load:
        load.run_for(OPS_PER_STAGE)
        for mode, percent in (("shadow", None), ("canary", 50), ("new", None)):
            flip(proxy, "catalog-read", mode, percent)
            before = served(proxy, "catalog-read")
            load.run_for(OPS_PER_STAGE)
            after = served(proxy, "catalog-read")
            if mode == "canary":
                # Both sides answered reads while the canary was at 50 %.
                for upstream in ("legacy", "catalog"):
                    assert after.get(upstream, 0) > before.get(upstream, 0), (upstream, before, after)

        # Writes: freeze, flip (the CLI hands write ownership over first: the service waits until
        # it has caught up per partition and aligns its sequences), resume.
        load.pause_writes()
        wait_outbox_empty(catalog_service)
        flip(proxy, "catalog-write", "new")
        assert catalog_service.write_owner() == "service"
        load.resume_writes()
        load.run_for(OPS_PER_STAGE)
        with psycopg.connect(catalog_url) as conn:
            recorded = conn.execute("SELECT count(*) FROM catalog_outbox").fetchone()[0]
        assert recorded > 0, "writes on new did not go through the service's outbox"

        # Back to legacy: freeze, flip writes, drain the outbox into the monolith, resume; then reads.
        load.pause_writes()
        flip(proxy, "catalog-write", "legacy")
        assert catalog_service.write_owner() == "monolith"
        wait_outbox_empty(catalog_service)
        # The load keeps updating and deleting the rows the service created while it was the source
        # of truth: those monolith changes must not be taken for echoes of the service's writes.
        load.resume_writes()
        load.run_for(OPS_PER_STAGE)
        flip(proxy, "catalog-read", "legacy")
        load.run_for(OPS_PER_STAGE)
    assert not load.failures, load.failures[:10]
    assert load.reads > 0 and load.writes >= 6 * OPS_PER_STAGE

    wait_outbox_empty(catalog_service)
    wait_caught_up(catalog_service, source_url)

    def equal():
        return catalog_checksums(source_url) == catalog_checksums(catalog_url)
    try:
        wait_until(equal, 60, 1, "equal checksums")
    except AssertionError:
        pytest.fail(f"source and target differ: {differing_rows(source_url, catalog_url)}")
    assert catalog_checksums(source_url) == catalog_checksums(catalog_url)


def differing_rows(source_url: str, catalog_url: str) -> dict:
    """Per table, the rows (as text) present on only one side, for the failure message."""
    from services.catalog.domain import DOMAIN
    from tests.lifecycle.conftest import CATALOG_TABLES

    out = {}
    for table in CATALOG_TABLES:
        columns = ", ".join(DOMAIN.by_target[table].column_names)
        rows = []
        for url in (source_url, catalog_url):
            with psycopg.connect(url) as conn:
                rows.append({r[0] for r in conn.execute(f"SELECT r::text FROM (SELECT {columns} FROM {table}) r")})
        if rows[0] != rows[1]:
            out[table] = {"monolith_only": sorted(rows[0] - rows[1])[:5], "service_only": sorted(rows[1] - rows[0])[:5]}
    return out
