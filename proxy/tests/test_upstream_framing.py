"""Framing cases through real proxy and upstream processes, on one kept-alive client connection
(so every answer must also leave the proxy's pooled upstream connections reusable): HEAD, 204,
304, repeated Set-Cookie, a chunked upload larger than the replay limit, and Expect: 100-continue."""
import hashlib
import http.client
import socket


def connect(proxy) -> http.client.HTTPConnection:
    host, port = proxy.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=30)


def test_answers_without_a_body_cookies_and_a_big_chunked_upload_on_one_connection(proxy):
    connection = connect(proxy)
    for _ in range(2):
        connection.request("HEAD", "/api/v1/tracks/")
        response = connection.getresponse()
        assert response.status == 200 and int(response.getheader("content-length")) > 0
        assert response.read() == b""
        for code in (204, 304):
            connection.request("GET", f"/status/{code}")
            response = connection.getresponse()
            assert response.status == code and response.read() == b""
        connection.request("GET", "/cookies")
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("content-length") and response.read()
        assert [v for k, v in response.getheaders() if k.lower() == "set-cookie"] == [
            "a=1; Path=/", "b=2; Path=/; HttpOnly"]

    piece = bytes(range(256)) * 256  # 64 KiB
    parts = 12 * 16  # 12 MiB: streamed, not buffered (PROXY_REPLAY_BODY_BYTES is 1 MiB)
    connection.request("POST", "/upload", body=(piece for _ in range(parts)), encode_chunked=True,
                       headers={"Transfer-Encoding": "chunked"})
    response = connection.getresponse()
    echo = __import__("json").loads(response.read())
    assert response.status == 200
    assert echo["body_bytes"] == len(piece) * parts
    assert echo["body_sha256"] == hashlib.sha256(piece * parts).hexdigest()
    connection.request("GET", "/echo?after=upload")
    assert connection.getresponse().status == 200
    connection.close()


def test_expect_100_continue(proxy):
    host, port = proxy.url.removeprefix("http://").split(":")
    body = b'{"title": "x"}'
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body)
        answer = b""
        while b'"at"' not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert b'"body_bytes": %d' % len(body) in answer
