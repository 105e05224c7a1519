"""Several serving processes behind one port (proxy/serving/supervisor.py): a flip is served by every
process when it returns, each change is audited once, metrics and route figures are totals, one
shadow report holds the mirrors of every process, and flips under load fail no request.

Fresh connections are how these tests reach different processes: the kernel gives each new
connection to one of the processes accepting on the shared socket."""
import json
import os
import signal
from pathlib import Path

import httpx

from proxy.routing.file import write_atomically
from proxy.tests.conftest import wait_for
from proxy.tests.flip_load import flip_under_load

WORKERS = 3
MAX_ATTEMPTS = 400  # fresh connections tried before concluding a process is never reached


def serving_pids(proxy) -> set[int]:
    master = proxy.process.popen.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children
            if b"proxy.serving.process" in Path(f"/proc/{pid}/cmdline").read_bytes()}


def access_lines(proxy) -> list[dict]:
    lines = []
    for text in proxy.process.log().splitlines():
        if '"proxy.access"' in text:
            lines.append(json.loads(text))
    return lines


def get_fresh(url: str) -> httpx.Response:
    with httpx.Client(timeout=30) as client:  # a new connection each time
        return client.get(url)


def until_every_process_answered(proxy, request) -> int:
    """Call `request()` on fresh connections until each serving process answered one (by its
    access-log pid); every answer is checked by `request` itself. Returns how many were sent,
    once each has its access-log line."""
    pids = serving_pids(proxy)
    assert len(pids) == WORKERS
    for sent in range(1, MAX_ATTEMPTS + 1):
        request()
        answered = {line["pid"] for line in access_lines(proxy)}
        if pids <= answered:
            wait_for(lambda: len(access_lines(proxy)) >= sent, what="access log lines")
            return sent
    raise AssertionError(f"not every serving process was reached: {pids - answered}")


def test_a_flip_is_served_by_every_process_when_it_returns(start_proxy, legacy, catalog):
    proxy = start_proxy(legacy, catalog, extra_env={"PROXY_WORKERS": str(WORKERS)})
    result = proxy.flip("catalog-read", "new")
    assert result["serving_processes"] == {"applied": WORKERS, "pending": []}

    def served_by_catalog():
        assert get_fresh(proxy.url + "/api/v1/tracks/").headers["x-served-by"] == "catalog"

    until_every_process_answered(proxy, served_by_catalog)
    # the CLI's rollback is the same one step, applied everywhere before it returns
    assert proxy.cli("set", "catalog-read", "legacy").returncode == 0
    for _ in range(3 * WORKERS):
        assert get_fresh(proxy.url + "/api/v1/tracks/").headers["x-served-by"] == "legacy"


def test_every_change_is_audited_once(start_proxy, legacy, catalog):
    proxy = start_proxy(legacy, catalog, extra_env={"PROXY_WORKERS": str(WORKERS)})
    proxy.flip("catalog-read", "shadow", who="alice")  # admin API
    text = proxy.routes_file.read_text()
    write_atomically(proxy.routes_file, text.replace("  - name: broken\n    path: ^/api/v1/broken\n    mode: legacy",
                                                     "  - name: broken\n    path: ^/api/v1/broken\n    mode: new"))
    wait_for(lambda: len(proxy.admin("GET", "/_proxy/audit").json()["entries"]) >= 3, what="hand edit audited")
    offline = proxy.cli("set", "catalog-read", "legacy", "--offline", "--who", "bob")  # CLI, file only
    assert offline.returncode == 0, offline.stderr
    wait_for(lambda: proxy.route_mode("catalog-read") == "legacy", what="offline edit applied")
    proxy.process.popen.send_signal(signal.SIGHUP)  # every process re-reads the file: nothing new
    proxy.flip("catalog-read", "new", who="carol")
    # let every process's watcher see the last change, so a duplicate would have been written
    for _ in range(3 * WORKERS):
        assert get_fresh(proxy.url + "/api/v1/tracks/").headers["x-served-by"] == "catalog"
    entries = proxy.admin("GET", "/_proxy/audit").json()["entries"]
    assert [(e["source"], e["who"].split(" ")[0]) for e in entries] == [
        ("startup", entries[0]["who"]), ("admin-api", "alice"), ("file-watch", "file-edit"),
        ("cli-offline", "bob"), ("admin-api", "carol")]
    shas = [e["new_sha256"] for e in entries]
    assert len(set(shas)) == len(shas)


def test_metrics_and_route_figures_are_totals_of_all_processes(start_proxy, legacy, catalog):
    proxy = start_proxy(legacy, catalog, extra_env={"PROXY_WORKERS": str(WORKERS)})
    sent = until_every_process_answered(proxy, lambda: get_fresh(proxy.url + "/api/v1/tracks/"))
    metrics = httpx.get(proxy.url + "/metrics", timeout=30).text
    total = f'proxy_requests_total{{route="catalog-read",status_class="2xx",upstream="legacy"}} {float(sent)}'
    assert total in metrics.splitlines()
    for _ in range(2 * WORKERS):  # whichever process answers, the same totals
        routes = {r["name"]: r for r in proxy.admin("GET", "/_proxy/routes").json()["routes"]}
        assert routes["catalog-read"]["stats"]["requests"] == sent
        assert routes["catalog-read"]["stats"]["by_upstream"] == {"legacy": sent}
        assert routes["catalog-read"]["stats"]["p50_ms"] is not None
    listing = proxy.cli("routes")
    row = next(line for line in listing.stdout.splitlines() if line.startswith("catalog-read"))
    assert row.split()[3] == str(sent)


def test_one_shadow_report_holds_the_mirrors_of_every_process(start_proxy, legacy, catalog):
    proxy = start_proxy(legacy, catalog, read_mode="shadow", extra_env={"PROXY_WORKERS": str(WORKERS)})
    status = proxy.admin("GET", "/_proxy/shadow/status").json()
    wait_for(lambda: proxy.admin("GET", "/_proxy/shadow/status").json()["serving_processes"] == WORKERS,
             what="every serving process connected to the shadow worker")
    sent = until_every_process_answered(proxy, lambda: get_fresh(proxy.url + "/api/v1/tracks/"))

    def compared():
        report = proxy.admin("GET", "/_proxy/shadow/report").json()["routes"].get("catalog-read") or {}
        return report.get("compared", 0) == sent

    wait_for(compared, timeout=60, what=f"{sent} comparisons in one report")
    for _ in range(2 * WORKERS):  # the same report and worker whichever process is asked
        assert proxy.admin("GET", "/_proxy/shadow/status").json()["pid"] == status["pid"]
        assert proxy.admin("GET", "/_proxy/shadow/report").json()["routes"]["catalog-read"]["compared"] == sent
    records = proxy.admin("GET", f"/_proxy/shadow/records?route=catalog-read&limit={sent}").json()["records"]
    assert len(records) == sent


def test_flips_under_load_on_fresh_connections_fail_no_request(start_proxy, legacy, catalog):
    """Every request on a new connection, so the load reaches every serving process while the
    route goes legacy -> shadow -> canary -> new -> legacy, twice."""
    proxy = start_proxy(legacy, catalog, extra_env={"PROXY_WORKERS": str(WORKERS)})
    results, replies = flip_under_load(proxy, "catalog-read", fresh_connections=True)
    assert all(reply["serving_processes"]["applied"] == WORKERS for reply in replies)
    assert len(results) > 50
    assert [r for r in results if r[0] != 200] == []
    assert {side for _, side in results} == {"legacy", "catalog"}
    assert {line["pid"] for line in access_lines(proxy)} == serving_pids(proxy)
    entries = proxy.admin("GET", "/_proxy/audit").json()["entries"]
    assert [e["source"] for e in entries] == ["startup"] + ["admin-api"] * 8


def test_a_dead_serving_process_is_replaced(start_proxy, legacy, catalog):
    proxy = start_proxy(legacy, catalog, extra_env={"PROXY_WORKERS": "2"})
    first = serving_pids(proxy)
    victim = sorted(first)[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(serving_pids(proxy)) == 2 and victim not in serving_pids(proxy), timeout=60,
             what="a new serving process")
    for _ in range(10):
        assert get_fresh(proxy.url + "/api/v1/tracks/").status_code == 200
    assert 'proxy_worker_restarts_total 1.0' in httpx.get(proxy.url + "/metrics", timeout=30).text
