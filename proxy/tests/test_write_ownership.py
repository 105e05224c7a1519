"""Single-writer routes: `write_owner` refuses canary, and a flip across the monolith/service line
hands write ownership over in the same step, in the order that never makes two writers. The
service is a real HTTP server here that records each ownership call together with the route's
mode in the file at that moment (so the order is observed, not assumed)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from proxy.routing.table import RouteTableError, load_route_table, parse_route_table
from proxy.tests.conftest import ROOT, ROUTES_TEMPLATE, closed_port_url

TOKEN = "test-internal-token"


class FakeService:
    """POST/GET /internal/write-ownership, answering `status` with `body`; /healthz for the proxy."""

    def __init__(self, routes_file: Path):
        self.routes_file = routes_file
        self.calls: list[dict] = []
        self.owner = "monolith"
        self.refuse: tuple[int, dict] | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                if self.path == "/healthz":
                    return self._answer(200, {"status": "ok"})
                fake.calls.append({"method": "GET", "path": self.path, "token": self.headers.get("X-Internal-Token")})
                self._answer(200, {"domain": "catalog", "owner": fake.owner})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                mode = load_route_table(fake.routes_file).route("catalog-write").mode.value
                fake.calls.append({"method": "POST", "path": self.path, "body": body, "route_mode": mode,
                                   "token": self.headers.get("X-Internal-Token")})
                if fake.refuse:
                    return self._answer(*fake.refuse)
                fake.owner = body["owner"]
                self._answer(200, {"domain": "catalog", "owner": body["owner"], "caught_up": True})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self) -> list[dict]:
        return [c for c in self.calls if c["method"] == "POST"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _routes(legacy: str, catalog: str, write_mode: str = "shadow") -> str:
    return ROUTES_TEMPLATE.format(legacy=legacy, catalog=catalog, read_mode="legacy").replace(
        "  - name: catalog-write\n    path: ^/api/v1/(tracks|albums)(/|$)\n    methods: [POST, PUT, PATCH, DELETE]\n"
        "    mode: legacy\n",
        "  - name: catalog-write\n    path: ^/api/v1/(tracks|albums)(/|$)\n    methods: [POST, PUT, PATCH, DELETE]\n"
        f"    write_owner: catalog\n    mode: {write_mode}\n")


@pytest.fixture
def routes_file(tmp_path) -> Path:
    return tmp_path / "routes.yaml"


@pytest.fixture
def service(routes_file):
    fake = FakeService(routes_file)
    routes_file.write_text(_routes(closed_port_url(), fake.url))
    yield fake
    fake.stop()


def cli(routes_file: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROXY_ROUTES_FILE": str(routes_file), "PROXY_DATA_DIR": str(routes_file.parent / "data"),
           "INTERNAL_API_TOKEN": TOKEN}
    return subprocess.run([sys.executable, "-m", "proxy.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=env)


def audit_entries(routes_file: Path) -> list[dict]:
    path = routes_file.parent / "data" / "route-audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_canary_is_refused_for_a_single_writer_route():
    text = _routes("http://127.0.0.1:1", "http://127.0.0.1:2", "canary\n    percent: 10")
    with pytest.raises(RouteTableError, match="one writer at a time; canary would make two"):
        parse_route_table(text)
    with pytest.raises(RouteTableError, match="unsafe_methods would make the target write too"):
        parse_route_table(_routes("http://127.0.0.1:1", "http://127.0.0.1:2").replace(
            "write_owner: catalog\n", "write_owner: catalog\n    shadow: {unsafe_methods: true}\n"))


def test_the_shipped_write_route_has_one_writer():
    table = load_route_table(ROOT / "proxy" / "routes.yaml")
    assert table.route("catalog-write").spec.write_owner == "catalog"
    assert table.route("catalog-read").spec.write_owner is None


def test_cli_refuses_canary_and_leaves_the_file_alone(routes_file, service):
    before = routes_file.read_bytes()
    result = cli(routes_file, "set", "catalog-write", "canary", "10", "--offline")
    assert result.returncode != 0
    assert "canary would make two" in result.stderr
    assert routes_file.read_bytes() == before and service.calls == []


def test_flip_to_new_takes_ownership_first_and_back_gives_it_up_after(routes_file, service):
    result = cli(routes_file, "set", "catalog-write", "new", "--who", "alice", "--offline")
    assert result.returncode == 0, result.stderr
    assert service.posts() == [{"method": "POST", "path": "/internal/write-ownership", "token": TOKEN,
                                "body": {"owner": "service", "who": "alice"}, "route_mode": "shadow"}]
    assert load_route_table(routes_file).route("catalog-write").mode.value == "new"
    [entry] = audit_entries(routes_file)  # the flip and the handover: one entry
    assert entry["who"] == "alice" and entry["changes"][0]["new"] == {"mode": "new"}
    assert entry["ownership"]["owner"] == "service" and entry["ownership"]["result"] == "ok"

    result = cli(routes_file, "set", "catalog-write", "legacy", "--who", "bob", "--offline")
    assert result.returncode == 0, result.stderr
    back = service.posts()[1]
    assert back["body"] == {"owner": "monolith", "who": "bob"}
    assert back["route_mode"] == "legacy"  # the route was off the service before it gave the writes up
    flip, handback = audit_entries(routes_file)[1:]
    assert flip["id"] == handback["id"] and flip["changes"][0]["new"] == {"mode": "legacy"}
    assert handback["ownership"]["owner"] == "monolith" and handback["ownership"]["result"] == "ok"

    # legacy <-> shadow stays on the monolith's side: no ownership call
    assert cli(routes_file, "set", "catalog-write", "shadow", "--offline").returncode == 0
    assert len(service.posts()) == 2


def test_a_refusal_changes_nothing(routes_file, service):
    service.refuse = (409, {"detail": "catalog is not caught up: catalog_track partition 2 is 812 changes behind"})
    before = routes_file.read_bytes()
    result = cli(routes_file, "set", "catalog-write", "new", "--who", "alice", "--offline")
    assert result.returncode != 0
    assert "812 changes behind" in result.stderr
    assert routes_file.read_bytes() == before
    assert audit_entries(routes_file) == []


def test_an_unreachable_service_changes_nothing(routes_file, service):
    routes_file.write_text(_routes(closed_port_url(), closed_port_url()))
    before = routes_file.read_bytes()
    result = cli(routes_file, "set", "catalog-write", "new", "--offline")
    assert result.returncode != 0 and "no answer from" in result.stderr
    assert routes_file.read_bytes() == before


def test_a_failed_hand_back_is_loud_and_leaves_the_route_on_legacy(routes_file, service):
    assert cli(routes_file, "set", "catalog-write", "new", "--offline").returncode == 0
    service.refuse = (503, {"detail": "outbox replay is stuck"})
    result = cli(routes_file, "set", "catalog-write", "legacy", "--offline")
    assert result.returncode != 0
    assert "WRITE OWNERSHIP NOT HANDED BACK" in result.stderr and "outbox replay is stuck" in result.stderr
    assert "proxy.cli ownership catalog-write monolith" in result.stderr
    assert load_route_table(routes_file).route("catalog-write").mode.value == "legacy"
    assert audit_entries(routes_file)[-1]["ownership"]["result"] == "failed"

    service.refuse = None
    result = cli(routes_file, "ownership", "catalog-write", "monolith", "--who", "carol")
    assert result.returncode == 0, result.stderr
    assert service.posts()[-1]["body"] == {"owner": "monolith", "who": "carol"}
    assert audit_entries(routes_file)[-1]["ownership"] | {"answer": None} == {
        "route": "catalog-write", "domain": "catalog", "upstream": "catalog", "owner": "monolith", "result": "ok",
        "answer": None}
    shown = cli(routes_file, "ownership", "catalog-write")
    assert shown.returncode == 0 and json.loads(shown.stdout)["owner"] == "monolith"


def test_ownership_refuses_to_contradict_the_route(routes_file, service):
    result = cli(routes_file, "ownership", "catalog-write", "service")
    assert result.returncode != 0 and "set catalog-write new" in result.stderr
    assert service.posts() == []
    result = cli(routes_file, "ownership", "catalog-read")
    assert result.returncode != 0 and "declares no write_owner" in result.stderr


def test_the_admin_api_flips_through_the_same_handover(tmp_path, start_proxy, legacy):
    routes_file = tmp_path / "routes.yaml"
    service = FakeService(routes_file)
    try:
        proxy = start_proxy(legacy, service.url, routes_text=_routes(legacy.url, service.url),
                            extra_env={"INTERNAL_API_TOKEN": TOKEN})
        service.refuse = (409, {"detail": "not caught up yet"})
        refused = proxy.admin("PUT", "/_proxy/routes/catalog-write", json={"mode": "new", "who": "dave"})
        assert refused.status_code == 409 and "not caught up yet" in refused.json()["detail"]
        assert proxy.route_mode("catalog-write") == "shadow"

        service.refuse = None
        result = proxy.cli("set", "catalog-write", "new", "--who", "dave")
        assert result.returncode == 0, result.stderr
        assert service.posts()[-1]["route_mode"] == "shadow" and service.posts()[-1]["token"] == TOKEN
        assert proxy.route_mode("catalog-write") == "new"

        canary = proxy.admin("PUT", "/_proxy/routes/catalog-write", json={"mode": "canary", "percent": 5})
        assert canary.status_code == 400 and "canary would make two" in canary.json()["detail"]

        flipped = proxy.flip("catalog-write", "legacy", who="dave")
        assert flipped["mode"] == "legacy" and flipped["ownership"]["owner"] == "monolith"
        assert service.posts()[-1]["route_mode"] == "legacy"
        entries = proxy.admin("GET", "/_proxy/audit").json()["entries"]
        assert entries[-1]["id"] == entries[-2]["id"] and entries[-1]["ownership"]["owner"] == "monolith"
    finally:
        service.stop()
    assert httpx.get(proxy.url + "/healthz").status_code == 200
