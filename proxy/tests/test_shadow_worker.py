"""Shadow work happens in its own process, bounded: sampling, dropping (counted) when the worker
is saturated while clients keep getting legacy's answers, a worker that dies is started again
without losing the report, and the HTML report."""
import os
import signal

import httpx
import pytest

from proxy.compare import ShadowReport, render_html
from proxy.routing.table import RouteTableError, parse_route_table
from proxy.tests.conftest import ROUTES_TEMPLATE, wait_for


def metric(proxy, line_start: str) -> float:
    for line in httpx.get(proxy.url + "/metrics", timeout=30).text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def route_report(proxy, route: str):
    return proxy.admin("GET", "/_proxy/shadow/report").json()["routes"].get(route)


def test_sample_rate_limits_what_is_mirrored(start_proxy, legacy, catalog):
    routes = ROUTES_TEMPLATE.format(legacy=legacy.url, catalog=catalog.url, read_mode="shadow").replace(
        "    shadow: {noise_sample: 1.0}\n", "    shadow: {sample: 0.0}\n").replace(
        "  - name: echo\n    path: ^/echo\n    mode: legacy", "  - name: echo\n    path: ^/echo\n    mode: shadow")
    proxy = start_proxy(legacy, catalog, routes_text=routes)
    for _ in range(5):
        assert httpx.get(proxy.url + "/api/v1/tracks/", timeout=30).headers["x-served-by"] == "legacy"
    assert metric(proxy, 'proxy_shadow_dropped_total{reason="sampled_out",route="catalog-read"}') == 5.0
    httpx.get(proxy.url + "/echo/after", timeout=30)  # mirrored (sample 1.0 by default): shows the worker ran
    wait_for(lambda: route_report(proxy, "echo"), timeout=60, what="echo comparison")
    assert route_report(proxy, "catalog-read") is None


def test_shadow_sample_is_validated():
    text = ROUTES_TEMPLATE.format(legacy="http://127.0.0.1:1", catalog="http://127.0.0.1:2", read_mode="shadow")
    with pytest.raises(RouteTableError, match=r"routes\.\[catalog-read\]\.shadow\.sample"):
        parse_route_table(text.replace("shadow: {noise_sample: 1.0}", "shadow: {sample: 1.5}"))


def test_a_saturated_worker_drops_mirrors_and_clients_do_not_wait(start_upstream, start_proxy, legacy):
    slow = start_upstream("catalog", "slow-shadow")  # each mirrored request takes 3 s
    proxy = start_proxy(legacy, slow, read_mode="shadow", extra_env={
        "PROXY_SHADOW_MAX_INFLIGHT": "1", "PROXY_SHADOW_QUEUE": "1", "PROXY_SHADOW_BACKLOG_BYTES": "0"})
    dropped = 'proxy_shadow_dropped_total{reason="overloaded",route="catalog-read"}'
    sent = 0
    with httpx.Client(timeout=30) as client:
        while metric(proxy, dropped) == 0.0:
            assert sent < 5000, "the shadow queue never filled"
            for _ in range(50):
                response = client.get(proxy.url + "/api/v1/tracks/")
                assert response.status_code == 200 and response.headers["x-served-by"] == "legacy"
                sent += 1
    status = proxy.admin("GET", "/_proxy/shadow/status").json()
    assert status["inflight"] <= 1 and status["queued"] <= 1  # the bounds held


def test_a_dead_worker_is_started_again_and_keeps_the_report(start_proxy, legacy, catalog):
    proxy = start_proxy(legacy, catalog, read_mode="shadow")
    for _ in range(3):
        httpx.get(proxy.url + "/api/v1/tracks/", timeout=30)
    wait_for(lambda: (route_report(proxy, "catalog-read") or {}).get("compared", 0) >= 3, timeout=60,
             what="three comparisons")
    first = proxy.admin("GET", "/_proxy/shadow/status").json()["pid"]
    os.kill(first, signal.SIGKILL)

    def new_worker():
        response = proxy.admin("GET", "/_proxy/shadow/status")
        return response.status_code == 200 and response.json()["pid"] != first

    wait_for(new_worker, timeout=60, what="a new shadow worker")
    assert metric(proxy, "proxy_shadow_worker_restarts_total") == 1.0
    assert route_report(proxy, "catalog-read")["compared"] >= 3  # replayed from this run's records

    # Each serving process reconnects on its own; until it has, its mirrors are dropped as
    # `worker_down` (clients never wait), so keep serving until one is compared again.
    def mirrored_again():
        assert httpx.get(proxy.url + "/api/v1/tracks/", timeout=30).status_code == 200
        return route_report(proxy, "catalog-read")["compared"] >= 4

    wait_for(mirrored_again, timeout=60, interval=0.2, what="comparing again")


def test_html_report_needs_the_token_and_shows_fields_with_examples(proxy):
    proxy.flip("catalog-read", "shadow")
    for _ in range(3):
        httpx.get(proxy.url + "/api/v1/tracks/", timeout=30)
    wait_for(lambda: (route_report(proxy, "catalog-read") or {}).get("compared", 0) >= 3, timeout=60,
             what="comparisons")
    anonymous = httpx.get(proxy.url + "/_proxy/shadow/report.html", timeout=30)
    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["www-authenticate"]
    wrong = httpx.get(proxy.url + "/_proxy/shadow/report.html", auth=("ops", "wrong"), timeout=30)
    assert wrong.status_code == 401
    page = httpx.get(proxy.url + "/_proxy/shadow/report.html", auth=("ops", proxy.env["PROXY_ADMIN_TOKEN"]),
                     timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<code>catalog-read</code>" in html
    assert "$.results[*].title" in html and "$.results[id=2].title" in html
    assert "&#x27;Track 2&#x27;" in html and "&#x27;Track two&#x27;" in html  # legacy -> candidate example
    assert "GET /api/v1/tracks/" in html
    assert 'class="noise"' in html  # generated_at differs between two legacy answers too


def test_html_report_escapes_what_upstreams_sent():
    report = ShadowReport().add_all([{
        "type": "shadow", "route": "r", "result": "mismatch",
        "request": {"method": "GET", "path": "/<b>x</b>", "query": ""},
        "differences": [{"field": "$.name", "path": "$.name", "kind": "changed",
                         "legacy": "<script>alert(1)</script>", "candidate": "ok"}]}])
    html = render_html(report.to_dict())
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "/&lt;b&gt;x&lt;/b&gt;" in html
