"""Upstream failures: clear 502/503/504 bodies, circuit breaker, fallback to legacy for safe methods."""
import httpx

from proxy.tests.conftest import closed_port_url, wait_for


def test_unreachable_upstream_gives_a_clear_502(start_proxy, catalog):
    proxy = start_proxy(closed_port_url(), catalog)
    response = httpx.get(proxy.url + "/anything", timeout=30)
    assert response.status_code == 502
    assert response.json() == {"detail": "Bad gateway: the upstream service failed to answer."}
    assert response.headers["x-proxy-error"] == "connect"
    assert httpx.get(proxy.url + "/readyz", timeout=30).status_code == 503  # legacy is down


def test_slow_upstream_gives_a_clear_504(proxy):
    response = httpx.get(proxy.url + "/slow?s=5", timeout=30)  # read_timeout is 2 s in the test table
    assert response.status_code == 504
    assert response.json()["detail"].startswith("Gateway timeout")


def test_fallback_to_legacy_for_safe_methods_when_the_target_is_down(start_proxy, legacy):
    proxy = start_proxy(legacy, closed_port_url(), read_mode="new")
    response = httpx.get(proxy.url + "/api/v1/tracks/", timeout=30)
    assert response.status_code == 200 and response.headers["x-served-by"] == "legacy"
    proxy.flip("catalog-write", "new")
    write = httpx.post(proxy.url + "/api/v1/tracks/", json={}, timeout=30)  # writes never go to legacy instead
    assert write.status_code in (502, 503) and write.headers["x-proxy-error"] in ("connect", "breaker_open")
    assert 'proxy_fallbacks_total{reason="connect",route="catalog-read"}' in httpx.get(
        proxy.url + "/metrics", timeout=30).text


def test_fallback_on_a_broken_target_answer(proxy):
    proxy.flip("broken", "new")  # the target answers 500 on /api/v1/broken, legacy answers 500 too
    response = httpx.get(proxy.url + "/api/v1/broken", timeout=30)
    assert response.headers["x-served-by"] == "legacy"
    assert 'reason="status_500",route="broken"' in httpx.get(proxy.url + "/metrics", timeout=30).text


def test_breaker_opens_fails_fast_and_closes_again(start_upstream, start_proxy, legacy):
    failing = start_upstream("catalog", "down")  # answers 503 to everything but /healthz
    # Breakers are per serving process (like nginx's max_fails per worker): one process, so that
    # the five requests below all count against the same breaker.
    proxy = start_proxy(legacy, failing, read_mode="new", extra_env={"PROXY_WORKERS": "1"})
    text = proxy.routes_file.read_text().replace("    compare: catalog\n    shadow: {noise_sample: 1.0}",
                                                 "    compare: catalog\n    fallback: false\n    shadow: {noise_sample: 1.0}")
    proxy.routes_file.write_text(text)
    wait_for(lambda: "fallback" in proxy.admin("GET", "/_proxy/audit").text, what="reload")
    statuses = [httpx.get(proxy.url + "/api/v1/tracks/", timeout=30) for _ in range(5)]
    assert [r.status_code for r in statuses[:3]] == [503, 503, 503]  # the upstream's own answers
    assert statuses[4].headers.get("x-proxy-error") == "breaker_open"
    assert statuses[4].json() == {"detail": "Service temporarily unavailable."}
    assert proxy.admin("GET", "/_proxy/upstreams").json()["catalog"]["breaker"] == "open"
    assert 'proxy_breaker_state{upstream="catalog"} 2.0' in httpx.get(proxy.url + "/metrics", timeout=30).text
    # with fallback on, the open breaker sends safe requests to legacy immediately
    proxy.routes_file.write_text(text.replace("    fallback: false\n", ""))
    wait_for(lambda: httpx.get(proxy.url + "/api/v1/tracks/", timeout=30).headers.get("x-served-by") == "legacy",
             what="fallback while open")
    # the upstream recovers: after reset_after (2 s) the trial call succeeds and the breaker closes
    failing.stop()
    healthy = start_upstream("catalog")
    proxy.routes_file.write_text(text.replace("    fallback: false\n", "").replace(failing.url, healthy.url))
    wait_for(lambda: httpx.get(proxy.url + "/api/v1/tracks/", timeout=30).headers.get("x-served-by") == "catalog",
             what="recovered target")
