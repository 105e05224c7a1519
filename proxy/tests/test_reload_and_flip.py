"""Hot reload, SIGHUP, invalid files, audit, CLI, and flips under load without a failed request."""
import signal

import httpx

from proxy.tests.conftest import wait_for
from proxy.tests.flip_load import flip_under_load


def test_file_edit_is_hot_reloaded_and_audited(proxy):
    proxy.routes_file.write_text(proxy.routes_file.read_text().replace(
        "    methods: [GET, HEAD]\n    mode: legacy", "    methods: [GET, HEAD]\n    mode: new", 1))
    wait_for(lambda: httpx.get(proxy.url + "/api/v1/tracks/", timeout=30).headers["x-served-by"] == "catalog",
             what="hot reload")
    entry = proxy.admin("GET", "/_proxy/audit").json()["entries"][-1]
    assert entry["source"] == "file-watch" and entry["who"].startswith("file-edit")
    assert entry["changes"] == [{"route": "catalog-read", "old": {"mode": "legacy"}, "new": {"mode": "new"}}]


def test_invalid_file_keeps_the_previous_table(proxy):
    proxy.flip("catalog-read", "new")
    good = proxy.routes_file.read_text()
    proxy.routes_file.write_text(good.replace("mode: new", "mode: canary"))  # canary without percent
    wait_for(lambda: proxy.admin("GET", "/_proxy/routes").json()["last_error"], what="rejection")
    routes = proxy.admin("GET", "/_proxy/routes").json()
    assert "percent" in routes["last_error"]
    assert httpx.get(proxy.url + "/api/v1/tracks/", timeout=30).headers["x-served-by"] == "catalog"
    assert httpx.get(proxy.url + "/readyz", timeout=30).status_code == 200
    proxy.routes_file.write_text("routes: [unterminated")
    wait_for(lambda: "YAML" in (proxy.admin("GET", "/_proxy/routes").json()["last_error"] or ""), what="YAML error")
    assert 'proxy_route_table_reloads_total{result="invalid"}' in httpx.get(proxy.url + "/metrics", timeout=30).text
    # the admin flip refuses to build on a broken file
    assert proxy.admin("PUT", "/_proxy/routes/catalog-read", json={"mode": "legacy"}).status_code == 400
    proxy.routes_file.write_text(good.replace("mode: new", "mode: legacy", 1))
    wait_for(lambda: proxy.admin("GET", "/_proxy/routes").json()["last_error"] is None, what="recovery")
    assert httpx.get(proxy.url + "/api/v1/tracks/", timeout=30).headers["x-served-by"] == "legacy"


def test_sighup_reloads_when_watching_is_off(start_proxy, legacy, catalog):
    proxy = start_proxy(legacy, catalog, extra_env={"PROXY_WATCH": "false"})
    proxy.routes_file.write_text(proxy.routes_file.read_text().replace(
        "    methods: [GET, HEAD]\n    mode: legacy", "    methods: [GET, HEAD]\n    mode: new", 1))
    assert proxy.route_mode("catalog-read") == "legacy"
    proxy.process.popen.send_signal(signal.SIGHUP)
    wait_for(lambda: proxy.route_mode("catalog-read") == "new", what="SIGHUP reload")
    assert proxy.admin("GET", "/_proxy/audit").json()["entries"][-1]["source"] == "sighup"


def test_cli_lists_flips_validates_and_audits(proxy):
    flipped = proxy.cli("set", "catalog-read", "canary", "25", "--who", "alice")
    assert flipped.returncode == 0, flipped.stderr
    assert "'mode': 'canary'" in flipped.stdout
    listing = proxy.cli("routes")
    assert listing.returncode == 0 and "catalog-read" in listing.stdout and "canary 25%" in listing.stdout
    rollback = proxy.cli("set", "catalog-read", "legacy", "--who", "alice")
    assert rollback.returncode == 0
    audit = proxy.cli("audit")
    assert audit.stdout.count("alice") == 2
    assert proxy.cli("set", "nope", "new").returncode == 1
    bad = proxy.routes_file.with_name("bad.yaml")
    bad.write_text(proxy.routes_file.read_text().replace("target: catalog", "target: missing", 1))
    invalid = proxy.cli("validate", str(bad))
    assert invalid.returncode == 1 and "missing" in invalid.stderr
    assert proxy.cli("validate", str(proxy.routes_file)).returncode == 0


def test_flip_and_roll_back_under_load_without_a_failed_request(proxy):
    """Clients on kept-alive connections keep calling while the route flips and rolls back, twice."""
    results, _ = flip_under_load(proxy, "catalog-read")
    assert len(results) > 50
    assert [r for r in results if r[0] != 200] == []
    assert {side for _, side in results} == {"legacy", "catalog"}
    assert len(proxy.admin("GET", "/_proxy/audit").json()["entries"]) >= 9


def test_a_removed_route_leaves_metrics_with_the_table_change(proxy):
    def route_series() -> str:
        return "\n".join(line for line in httpx.get(proxy.url + "/metrics", timeout=30).text.splitlines()
                         if line.startswith(("proxy_route_mode{", "proxy_route_canary_percent{")))

    assert 'proxy_route_mode{mode="legacy",route="broken"} 1.0' in route_series()
    proxy.routes_file.write_text(proxy.routes_file.read_text().replace(
        "  - name: broken\n    path: ^/api/v1/broken\n    mode: legacy\n    target: catalog\n", ""))
    wait_for(lambda: "broken" not in [r["name"] for r in proxy.admin("GET", "/_proxy/routes").json()["routes"]],
             what="reload without the route")
    # Every serving process serves the new table once the admin read returns; any of them answers.
    for _ in range(6):
        series = route_series()
        assert 'route="broken"' not in series
        assert 'proxy_route_mode{mode="legacy",route="catalog-read"} 1.0' in series
