"""Fixtures that run the proxy and its upstreams as real processes on free ports.

Every process writes the port it bound (port 0) to a file; fixtures wait for that file and for
/healthz with generous timeouts (a loaded 2-core machine), and stop only what they started."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "test-admin-token"
START_TIMEOUT = 60.0
WORKERS = 2


def wait_for(predicate, timeout: float = START_TIMEOUT, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=15)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _start(name: str, args: list[str], env: dict, workdir: Path, health: str = "/healthz") -> Process:
    port_file = workdir / f"{name}.port"
    port_file.unlink(missing_ok=True)
    log_path = workdir / f"{name}.log"
    handle = open(log_path, "wb")
    popen = subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **env},
                             stdout=handle, stderr=subprocess.STDOUT)
    handle.close()

    def port_ready():
        if popen.poll() is not None:
            raise AssertionError(f"{name} exited early:\n{log_path.read_text(errors='replace')}")
        return port_file.exists() and port_file.read_text().strip()

    port = int(wait_for(port_ready, what=f"{name} port file"))
    process = Process(name, popen, port, log_path)

    def healthy():
        if popen.poll() is not None:
            raise AssertionError(f"{name} exited early:\n{process.log()}")
        try:
            return httpx.get(process.url + health, timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, what=f"{name} health")
    return process


@pytest.fixture
def workdir(tmp_path) -> Path:
    return tmp_path


@pytest.fixture
def start_upstream(tmp_path):
    started: list[Process] = []

    def start(name: str, variant: str = "") -> Process:
        process = _start(f"upstream-{name}-{len(started)}",
                         ["-m", "proxy.tests.upstream_app", "--name", name, "--variant", variant,
                          "--port-file", str(tmp_path / f"upstream-{name}-{len(started)}.port")],
                         {}, tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


ROUTES_TEMPLATE = """\
# test route table
version: 1
legacy: legacy
upstreams:
  legacy:
    url: {legacy}
    read_timeout: 2
    breaker: {{failures: 3, reset_after: 2}}
  catalog:
    url: {catalog}
    read_timeout: 2
    breaker: {{failures: 3, reset_after: 2}}
routes:
  - name: catalog-read
    path: ^/api/v1/(tracks|albums)(/|$)
    methods: [GET, HEAD]
    mode: {read_mode}
    target: catalog
    compare: catalog
    shadow: {{noise_sample: 1.0}}
  - name: catalog-write
    path: ^/api/v1/(tracks|albums)(/|$)
    methods: [POST, PUT, PATCH, DELETE]
    mode: legacy
    target: catalog
    compare: catalog
  - name: broken
    path: ^/api/v1/broken
    mode: legacy
    target: catalog
  - name: echo
    path: ^/echo
    mode: legacy
    target: catalog
    max_body_bytes: 1048576
  - name: default
    path: ^/
    mode: legacy
compare_profiles:
  catalog:
    array_keys:
      $.results: id
    noise: {{min_samples: 3}}
"""


@dataclass
class RunningProxy:
    process: Process
    routes_file: Path
    data_dir: Path
    env: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.process.url

    def admin(self, method: str, path: str, token: Optional[str] = ADMIN_TOKEN, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def flip(self, route: str, mode: str, percent=None, who="pytest") -> dict:
        response = self.admin("PUT", f"/_proxy/routes/{route}", json={"mode": mode, "percent": percent, "who": who})
        assert response.status_code == 200, response.text
        return response.json()

    def route_mode(self, route: str) -> str:
        routes = self.admin("GET", "/_proxy/routes").json()["routes"]
        return next(r["mode"] for r in routes if r["name"] == route)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "proxy.cli", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=60, env={**os.environ, **self.env})


@pytest.fixture
def start_proxy(tmp_path):
    started: list[Process] = []

    def start(legacy: Process | str, catalog: Process | str, read_mode: str = "legacy",
              routes_text: Optional[str] = None, extra_env: Optional[dict] = None) -> RunningProxy:
        legacy_url = legacy if isinstance(legacy, str) else legacy.url
        catalog_url = catalog if isinstance(catalog, str) else catalog.url
        routes_file = tmp_path / "routes.yaml"
        routes_file.write_text(routes_text or ROUTES_TEMPLATE.format(
            legacy=legacy_url, catalog=catalog_url, read_mode=read_mode))
        data_dir = tmp_path / "proxy-data"
        port_file = tmp_path / f"proxy-{len(started)}.port"
        env = {
            "PROXY_PORT": "0", "PROXY_PORT_FILE": str(port_file), "PROXY_ROUTES_FILE": str(routes_file),
            "PROXY_DATA_DIR": str(data_dir), "PROXY_ADMIN_TOKEN": ADMIN_TOKEN, "PROXY_HEALTH_INTERVAL": "1",
            # several serving processes, as in production (the machine's CPU count may be 1)
            "PROXY_WORKERS": str(WORKERS),
            # On a machine busy with other work a SCHED_IDLE shadow worker may wait for minutes;
            # these tests are about what it does, not when.
            "PROXY_SHADOW_SCHED_IDLE": "false",
            **(extra_env or {}),
        }
        process = _start(f"proxy-{len(started)}", ["-m", "proxy"], env, tmp_path)
        started.append(process)
        cli_env = {**env, "PROXY_ADMIN_URL": process.url}
        return RunningProxy(process, routes_file, data_dir, cli_env)

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def legacy(start_upstream) -> Process:
    return start_upstream("legacy")


@pytest.fixture
def catalog(start_upstream) -> Process:
    return start_upstream("catalog", "renamed-title")


@pytest.fixture
def proxy(start_proxy, legacy, catalog) -> RunningProxy:
    return start_proxy(legacy, catalog)


def closed_port_url() -> str:
    """An address where nothing listens (bound and released, never listened on)."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"
