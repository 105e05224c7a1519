"""The routing proxy (`python -m proxy`) with a copy of the project's proxy/routes.yaml in front of
the monolith and a carved service, and what the lifecycle asks it: flips through the CLI (so a
write route's flip hands write ownership over as in production), which side answered, and the
shadow comparison report."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from cdc.testing import ROOT, wait_until
from proxy.tests.conftest import ADMIN_TOKEN, RunningProxy, _start, closed_port_url

UPSTREAM_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*_URL)")


def start_proxy(monolith_url: str, upstreams: dict[str, str], workdir: Path) -> RunningProxy:
    """`upstreams`: route table variable -> URL (e.g. {"CATALOG_URL": ...}); every other upstream
    the table names points at a closed port."""
    routes = workdir / "routes.yaml"
    shutil.copy(ROOT / "proxy" / "routes.yaml", routes)
    unused = {name: closed_port_url() for name in UPSTREAM_VARIABLE.findall(routes.read_text())}
    env = {**unused, "MONOLITH_URL": monolith_url, **upstreams,
           "PROXY_PORT": "0", "PROXY_PORT_FILE": str(workdir / "proxy.port"), "PROXY_ROUTES_FILE": str(routes),
           "PROXY_DATA_DIR": str(workdir / "proxy-data"), "PROXY_ADMIN_TOKEN": ADMIN_TOKEN,
           "PROXY_HEALTH_INTERVAL": "1",
           # The shadow stage waits for its comparisons; an idle-priority worker on a busy machine may
           # wait minutes for a CPU.
           "PROXY_SHADOW_SCHED_IDLE": "false"}
    process = _start("proxy", ["-m", "proxy"], env, workdir)
    return RunningProxy(process, routes, workdir / "proxy-data", {**env, "PROXY_ADMIN_URL": process.url})


def flip(proxy: RunningProxy, route: str, mode: str, percent: int | None = None, who: str = "carve-kit") -> None:
    """`python -m proxy.cli set ROUTE MODE [PERCENT]`: a write route's flip to new hands write
    ownership to the service first, its flip back hands it back."""
    args = ["set", route, mode] + ([str(percent)] if percent is not None else []) + ["--who", who]
    result = proxy.cli(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert proxy.route_mode(route) == mode


def route_info(proxy: RunningProxy, route: str) -> dict:
    routes = proxy.admin("GET", "/_proxy/routes").json()["routes"]
    return next(r for r in routes if r["name"] == route)


def served(proxy: RunningProxy, route: str) -> dict[str, int]:
    """Requests the route has sent to each upstream so far (the proxy's by_upstream figures)."""
    return route_info(proxy, route)["stats"]["by_upstream"]


def shadow_report(proxy: RunningProxy, route: str) -> dict:
    """The route's entry in the shadow comparison report (`proxy.cli report --route ROUTE --json`)."""
    response = proxy.admin("GET", "/_proxy/shadow/report", params={"route": route, "top": 20})
    assert response.status_code == 200, response.text
    return response.json()["routes"].get(route) or {"requests": 0, "compared": 0, "results": {}}


def shadow_records(proxy: RunningProxy, route: str, result: str) -> list[dict]:
    response = proxy.admin("GET", "/_proxy/shadow/records", params={"route": route, "result": result, "limit": 1000})
    assert response.status_code == 200, response.text
    return response.json()["records"]


def wait_shadow_settled(proxy: RunningProxy, route: str, mirrored: int, timeout: float = 120) -> dict:
    """Waits until the shadow worker has a result for (nearly) every mirrored request; the last
    one or two may still be in the serving process's send buffer when the route flips on."""
    return wait_until(lambda: (r := shadow_report(proxy, route))["requests"] >= mirrored - 2 and r,
                      timeout, 0.3, f"shadow results for {mirrored} mirrored requests of {route}")
