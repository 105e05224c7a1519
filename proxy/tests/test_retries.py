"""Retries happen only where they cannot duplicate work: a request the upstream never received
(connection refused: any method), or one whose connection was closed before any answer, and then
only for safe methods. A write that may have reached the upstream is never sent twice."""
import httpx
import pytest

from proxy.tests.conftest import ROUTES_TEMPLATE, _start, closed_port_url


@pytest.fixture
def flaky(tmp_path):
    process = _start("flaky", ["-m", "proxy.tests.flaky_upstream", "--port-file", str(tmp_path / "flaky.port")],
                     {}, tmp_path)
    yield process
    process.stop()


def attempts(upstream, path: str) -> int:
    return httpx.get(f"{upstream.url}/attempts", params={"path": path}, timeout=30).json()["attempts"]


def metric(proxy, line_start: str) -> float:
    for line in httpx.get(proxy.url + "/metrics", timeout=30).text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_safe_request_is_sent_again_when_the_connection_closes_before_an_answer(start_proxy, flaky, catalog):
    proxy = start_proxy(flaky, catalog)
    for method in ("GET", "HEAD", "OPTIONS"):
        response = httpx.request(method, proxy.url + f"/retry/{method}", timeout=30)
        assert response.status_code == 200, (method, response.text)
        assert attempts(flaky, f"/retry/{method}") == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_write_is_never_sent_twice(start_proxy, flaky, catalog, method):
    proxy = start_proxy(flaky, catalog)
    response = httpx.request(method, proxy.url + f"/write/{method}", content=b'{"n": 1}', timeout=30)
    assert response.status_code == 502 and response.headers["x-proxy-error"] == "disconnect"
    assert attempts(flaky, f"/write/{method}") == 1  # the upstream may have acted on it: not repeated


def legacy_upstream_with(extra: str, catalog) -> str:
    """The test route table with legacy unreachable, no breaker (it would open after three failed
    attempts and hide the retries) and `extra` settings."""
    return ROUTES_TEMPLATE.format(legacy=closed_port_url(), catalog=catalog.url, read_mode="legacy").replace(
        "    breaker: {failures: 3, reset_after: 2}\n", f"    breaker: null\n{extra}", 1)


def test_a_refused_connection_is_retried_for_any_method(start_proxy, catalog):
    proxy = start_proxy(closed_port_url(), catalog, routes_text=legacy_upstream_with("", catalog))
    retried = 'proxy_upstream_retries_total{upstream="legacy"}'
    assert httpx.get(proxy.url + "/anything", timeout=30).status_code == 502
    assert metric(proxy, retried) == 1.0
    response = httpx.post(proxy.url + "/anything", content=b"x", timeout=30)  # nothing was sent: no duplicate
    assert response.status_code == 502 and response.headers["x-proxy-error"] == "connect"
    assert metric(proxy, retried) == 2.0
    assert metric(proxy, 'proxy_upstream_errors_total{kind="connect",upstream="legacy"}') == 2.0


def test_retries_zero_turns_retries_off(start_proxy, catalog):
    proxy = start_proxy(closed_port_url(), catalog, routes_text=legacy_upstream_with("    retries: 0\n", catalog))
    assert httpx.get(proxy.url + "/anything", timeout=30).status_code == 502
    assert metric(proxy, 'proxy_upstream_errors_total{kind="connect",upstream="legacy"}') == 1.0
    assert metric(proxy, 'proxy_upstream_retries_total{upstream="legacy"}') == 0.0
