"""Header and body edge cases over raw sockets, and the admin API's token."""
import http.client
import socket

import httpx


def raw_request(url: str, data: bytes, timeout: float = 30) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and b'"}' in chunk:
                break
        return b"".join(chunks)


def test_huge_headers_get_431(proxy):
    response = httpx.get(proxy.url + "/echo", headers={"X-Big": "x" * 40_000}, timeout=30)
    assert response.status_code == 431
    assert response.json() == {"detail": "Request header fields too large."}


def test_body_over_the_limit_gets_413_declared_or_chunked(proxy):
    too_big = b"x" * (1024 * 1024 + 1)  # the echo route allows 1 MiB
    declared = httpx.post(proxy.url + "/echo", content=too_big, timeout=30)
    assert declared.status_code == 413 and declared.json()["detail"] == "Request body too large."

    def chunks():
        for _ in range(17):
            yield b"y" * 65536

    chunked = httpx.post(proxy.url + "/echo", content=chunks(), timeout=30)
    assert chunked.status_code == 413


def test_chunked_request_body_is_streamed_through(proxy):
    import hashlib
    parts = [b"a" * 10_000, b"b" * 20_000, b"c" * 30_000]

    def chunks():
        yield from parts

    response = httpx.post(proxy.url + "/echo/upload", content=chunks(), timeout=30)
    echo = response.json()
    assert echo["body_bytes"] == 60_000
    assert echo["body_sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
    assert "transfer-encoding" in dict(echo["headers"]) or "content-length" in dict(echo["headers"])


def test_streamed_response_arrives_whole(proxy):
    with httpx.stream("GET", proxy.url + "/stream?parts=20", timeout=30) as response:
        body = b"".join(response.iter_bytes())
        assert response.headers.get("transfer-encoding") == "chunked"
    assert body == b"".join(f"part {i}\n".encode() for i in range(20))


def test_bad_and_missing_host_get_400(proxy):
    bad = raw_request(proxy.url, b"GET /echo HTTP/1.1\r\nHost: bad host/\r\nConnection: close\r\n\r\n")
    assert bad.startswith(b"HTTP/1.1 400") and b"invalid Host header" in bad
    missing = raw_request(proxy.url, b"GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 400")
    twice = raw_request(proxy.url, b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n")
    assert twice.startswith(b"HTTP/1.1 400")


def test_invalid_content_length_gets_an_error(proxy):
    answer = raw_request(proxy.url, b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")


def test_keep_alive_connection_serves_many_requests(proxy):
    host, port = proxy.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    for i in range(20):
        connection.request("GET", f"/echo?i={i}")
        response = connection.getresponse()
        assert response.status == 200 and b'"query": "i=%d"' % i in response.read()
    connection.close()


def test_admin_api_requires_the_token(proxy):
    assert proxy.admin("GET", "/_proxy/routes", token=None).status_code == 401
    wrong = proxy.admin("GET", "/_proxy/routes", token="wrong")
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Invalid admin token."}
    assert proxy.admin("PUT", "/_proxy/routes/catalog-read", token="wrong", json={"mode": "new"}).status_code == 401
    assert proxy.route_mode("catalog-read") == "legacy"
    assert proxy.admin("GET", "/_proxy/routes", headers={"X-Proxy-Token": "test-admin-token"}, token=None).status_code == 200
    bad_mode = proxy.admin("PUT", "/_proxy/routes/catalog-read", json={"mode": "sideways"})
    assert bad_mode.status_code == 400 and "mode" in bad_mode.json()
    assert proxy.admin("PUT", "/_proxy/routes/nope", json={"mode": "new"}).status_code == 404
    # probes and metrics stay open for the supervisor and Prometheus
    httpx.get(proxy.url + "/echo", timeout=30)
    assert httpx.get(proxy.url + "/healthz", timeout=30).json() == {"status": "ok"}
    assert httpx.get(proxy.url + "/readyz", timeout=30).status_code == 200
    metrics = httpx.get(proxy.url + "/metrics", timeout=30).text
    assert "proxy_request_duration_seconds_bucket" in metrics and 'proxy_route_mode{mode="legacy",route="catalog-read"} 1.0' in metrics
