"""The upstream HTTP client (proxy/upstream/client.py) against small raw servers on real sockets:
what it sends, keep-alive reuse, framing of answers (Content-Length, chunked, until close, none
for HEAD/204/304), 1xx answers, repeated headers, streaming both ways, flow control, an upstream
answering before it read the body, timeouts and failures as UpstreamFailure kinds, the pool limit,
and the Forwarder's retry rules on a kept-alive connection the upstream closed."""
from __future__ import annotations

import asyncio
import hashlib

import pytest

from proxy.metrics import ProxyMetrics
from proxy.routing.table import UpstreamSpec
from proxy.serving.forwarding import Forwarder, RequestBody
from proxy.upstream.client import TooLarge, UpstreamClient, UpstreamFailure
from proxy.upstream.pool import Upstream

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"ok": true}'
HEADERS = [(b"host", b"shop.example"), (b"X-Request-ID", b"abc"), (b"X-Vobe-Shadow", b"1")]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request's head and de-chunked body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            body += await reader.readexactly(size + 2)
            del body[-2:]
            if size == 0:
                return head, bytes(body)
    length = 0
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length) if length else b""


class RawServer:
    """Answers each request with the next canned answer (bytes), or `answer(n_on_connection, head,
    body)` when given one (None: close without answering); records what it got."""

    def __init__(self, answers=(), close_after: bool = False, silent: bool = False, answer=None):
        self.answers = list(answers)
        self.answer = answer
        self.close_after = close_after
        self.silent = silent
        self.requests: list[bytes] = []
        self.connections = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        n = 0
        try:
            while True:
                head, body = await read_request(reader)
                self.requests.append(head + body)
                if self.silent:
                    await asyncio.sleep(3600)
                answer = self.answer(n, head, body) if self.answer else self.answers.pop(0)
                n += 1
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> "RawServer":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()


def client_for(server: RawServer, read_timeout: float = 5, max_connections: int = 16) -> UpstreamClient:
    return UpstreamClient("127.0.0.1", server.port, 2, read_timeout, max_connections)


async def fetch(client: UpstreamClient, method="GET", target=b"/", body=None, headers=HEADERS, timeout=None):
    response = await client.open(method, target, headers, body, timeout)
    try:
        return response.status, response.raw_headers, await response.read()
    finally:
        response.release()


async def test_sends_the_request_as_given_and_reuses_the_connection():
    async with RawServer([OK, OK]) as server:
        client = client_for(server)
        for _ in range(2):
            status, headers, body = await fetch(client, target=b"/api/v1/tracks/?page=2")
            assert (status, body) == (200, b'{"ok": true}')
            assert (b"Content-Type", b"application/json") in headers
        await client.close()
    assert server.connections == 1
    assert server.requests[0] == (b"GET /api/v1/tracks/?page=2 HTTP/1.1\r\nhost: shop.example\r\n"
                                  b"X-Request-ID: abc\r\nX-Vobe-Shadow: 1\r\nAccept: */*\r\n\r\n")


async def test_request_bodies_get_their_framing():
    async with RawServer(answer=lambda n, head, body: OK) as server:
        client = client_for(server)
        await fetch(client, "POST", b"/orders/", b'{"a": 1}')
        await fetch(client, "POST", b"/orders/")  # no body: Content-Length 0, as aiohttp sent it

        async def parts():
            yield b"abc"
            yield b"defg"

        await fetch(client, "PUT", b"/upload", parts())  # streamed without a length: chunked
        await fetch(client, "PUT", b"/upload", parts(), headers=[*HEADERS, (b"Content-Length", b"7")])  # raw
        await client.close()
    assert server.requests[0].endswith(b"Content-Length: 8\r\n\r\n{\"a\": 1}")
    assert server.requests[1].endswith(b"Content-Length: 0\r\n\r\n")
    assert server.requests[2].endswith(b"Transfer-Encoding: chunked\r\n\r\nabcdefg")
    assert server.requests[3].endswith(b"Content-Length: 7\r\nAccept: */*\r\n\r\nabcdefg")
    assert server.connections == 1


async def test_answers_without_a_body_keep_the_connection():
    answers = [b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n",  # HEAD: no body whatever it says
               b"HTTP/1.1 204 No Content\r\n\r\n",
               b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", OK]
    async with RawServer(answers) as server:
        client = client_for(server)
        assert (await fetch(client, "HEAD"))[::2] == (200, b"")
        assert (await fetch(client, "DELETE"))[::2] == (204, b"")
        assert (await fetch(client))[::2] == (304, b"")
        assert (await fetch(client))[::2] == (200, b'{"ok": true}')
        await client.close()
    assert server.connections == 1


@pytest.mark.parametrize("head", [b"HTTP/1.1 204 No Content\r\nContent-Length: 12\r\n\r\n",
                                  b"HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\n\r\n",
                                  b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"])
async def test_a_204_or_304_that_announces_a_body_does_not_keep_the_connection(head):
    """uvicorn, for one, sends the body such a head announces although none may follow. Sent a
    little after the head here, so that a reused connection would read it as the start of the next
    answer and fail that request."""
    connections = 0

    async def serve(reader, writer):
        nonlocal connections
        connections += 1
        try:
            while True:
                request, _ = await read_request(reader)
                if request.startswith(b"DELETE"):
                    writer.write(head)
                    await writer.drain()
                    await asyncio.sleep(0.1)
                    writer.write(b"c\r\n{\"ok\": true}\r\n0\r\n\r\n" if b"chunked" in head else b'{"ok": true}')
                else:
                    writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    client = UpstreamClient("127.0.0.1", server.sockets[0].getsockname()[1], 2, 5, 16)
    try:
        assert (await fetch(client, "DELETE"))[::2] == (int(head[9:12]), b"")
        assert (await fetch(client))[::2] == (200, b'{"ok": true}')
        assert connections == 2
    finally:
        await client.close()
        server.close()


async def test_chunked_and_until_close_answers_are_streamed():
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    until_close = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"
    async with RawServer([chunked]) as first, RawServer([until_close], close_after=True) as second:
        client = client_for(first)
        response = await client.open("GET", b"/", HEADERS)
        assert response.content_length is None
        assert b"".join([chunk async for chunk in response.chunks()]) == b"abcde"
        response.release()
        assert (await fetch(client_for(second)))[::2] == (200, b"all of it")


async def test_interim_answers_are_skipped_and_repeated_headers_kept_in_order():
    answer = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nVary: Accept\r\n"
              b"Set-Cookie: b=2; HttpOnly\r\nVary: Cookie\r\nContent-Length: 2\r\n\r\nok")
    async with RawServer([answer, OK]) as server:
        client = client_for(server)
        status, headers, body = await fetch(client, "POST", b"/", b"x")
        assert (status, body) == (200, b"ok")
        assert headers == [(b"Set-Cookie", b"a=1; Path=/"), (b"Vary", b"Accept"), (b"Set-Cookie", b"b=2; HttpOnly"),
                           (b"Vary", b"Cookie"), (b"Content-Length", b"2")]
        assert (await fetch(client))[0] == 200
        await client.close()
    assert server.connections == 1


async def test_connection_close_from_the_upstream_is_honoured():
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    async with RawServer(answer=lambda n, head, body: closing if n == 0 else None) as server:
        client = client_for(server)
        for _ in range(3):
            assert (await fetch(client))[::2] == (200, b"ok")
        await client.close()
    assert server.connections == 3


async def test_large_bodies_stream_both_ways_with_bounded_buffers():
    size = 32 * 1024 * 1024
    piece = b"z" * 65536
    digest = hashlib.sha256()

    async def serve(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        received = 0
        while True:  # chunked request body: count it as it comes
            length = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if length == 0:
                await reader.readuntil(b"\r\n")
                break
            digest.update((await reader.readexactly(length + 2))[:-2])
            received += length
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Received: %d\r\n\r\n" % (size, received))
        for _ in range(size // len(piece)):
            writer.write(piece)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    client = UpstreamClient("127.0.0.1", server.sockets[0].getsockname()[1], 2, 5)

    async def upload():
        for _ in range(size // len(piece)):
            yield piece

    response = await client.open("POST", b"/big", HEADERS, upload())
    assert dict(response.raw_headers)[b"X-Received"] == str(size).encode()
    assert response.content_length == size
    received = 0
    async for chunk in response.chunks():
        received += len(chunk)
        assert response._connection.buffered <= 2 * 256 * 1024  # reading pauses for a slow reader
        await asyncio.sleep(0)
    response.release()
    server.close()
    assert received == size
    assert digest.hexdigest() == hashlib.sha256(piece * (size // len(piece))).hexdigest()


async def test_an_answer_before_the_body_was_read():
    """An upstream that refuses a request (413) without reading the body, then closes."""

    async def serve(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 7\r\nConnection: close\r\n\r\ntoo big")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    client = UpstreamClient("127.0.0.1", server.sockets[0].getsockname()[1], 2, 5)

    async def endless():
        while True:
            yield b"x" * 65536
            await asyncio.sleep(0.001)

    status, _, body = await asyncio.wait_for(fetch(client, "POST", b"/", endless()), 10)
    server.close()
    assert (status, body) == (413, b"too big")


async def test_limits_timeouts_and_failures():
    async with RawServer([OK]) as server:
        with pytest.raises(TooLarge):
            response = await client_for(server).open("GET", b"/", HEADERS)
            await response.read(4)
    async with RawServer([OK], silent=True) as server:
        with pytest.raises(UpstreamFailure) as failure:  # the read timeout between reads
            await fetch(client_for(server, read_timeout=0.2))
        assert (failure.value.kind, failure.value.status) == ("timeout", 504)
        with pytest.raises(UpstreamFailure) as failure:  # a deadline for the whole exchange
            await fetch(client_for(server), timeout=0.2)
        assert failure.value.kind == "timeout"
    async with RawServer([b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"], close_after=True) as server:
        with pytest.raises(UpstreamFailure) as failure:
            await fetch(client_for(server))
        assert (failure.value.kind, failure.value.status) == ("disconnect", 502)
    async with RawServer([b"NOT HTTP AT ALL\r\n\r\n"]) as server:
        with pytest.raises(UpstreamFailure) as failure:
            await fetch(client_for(server))
        assert failure.value.kind == "protocol"
    async with RawServer([]) as server:
        port = server.port
    with pytest.raises(UpstreamFailure) as failure:
        await fetch(UpstreamClient("127.0.0.1", port, 2, 5))
    assert (failure.value.kind, failure.value.retry_connect) == ("connect", True)


async def test_the_pool_limit_makes_exchanges_wait_for_a_connection():
    async with RawServer(answer=lambda n, head, body: OK) as server:
        client = client_for(server, max_connections=2)
        results = await asyncio.gather(*(fetch(client) for _ in range(10)))
        await client.close()
    assert [r[0] for r in results] == [200] * 10
    assert server.connections <= 2


async def test_a_connection_handed_to_a_cancelled_waiter_goes_to_the_next_one():
    async with RawServer(answer=lambda n, head, body: OK) as server:
        client = client_for(server, max_connections=1)
        holding = await client.open("GET", b"/", HEADERS)
        await holding.read()
        first = asyncio.ensure_future(fetch(client))
        second = asyncio.ensure_future(fetch(client))
        await asyncio.sleep(0.05)  # both wait for the one connection
        holding.release()  # handed to the first waiter...
        first.cancel()  # ...which is cancelled before it runs
        assert (await asyncio.wait_for(second, 5))[0] == 200
        assert first.cancelled()
        assert (await fetch(client))[0] == 200
        await client.close()
    assert server.connections == 1


def forwarder_and_upstream(port: int) -> tuple[Forwarder, Upstream]:
    metrics = ProxyMetrics()
    upstream = Upstream("legacy", UpstreamSpec(url=f"http://127.0.0.1:{port}", breaker=None), metrics)
    upstream.start()
    return Forwarder(metrics), upstream


def receive_of(body: bytes):
    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}
    return receive


@pytest.mark.parametrize("method, retried", [("GET", True), ("HEAD", True), ("POST", False), ("DELETE", False)])
async def test_a_kept_alive_connection_the_upstream_closes_is_retried_only_for_idempotent_methods(method, retried):
    """The upstream answers the first request on a connection and closes it on reading the second,
    unanswered (a keep-alive race): safe methods go again on a new connection, writes get 502."""
    async with RawServer(answer=lambda n, head, body: OK if n == 0 else None) as server:
        forwarder, upstream = forwarder_and_upstream(server.port)
        scope = {"raw_path": b"/x", "query_string": b"", "headers": [(b"content-length", b"1")]}
        response = await forwarder.open(upstream, "GET", scope, HEADERS, RequestBody(scope, receive_of(b"x"), 1024))
        await response.read()
        response.release()
        body = RequestBody(scope, receive_of(b"x"), 1024)
        await body.buffer(1024)
        if retried:
            response = await forwarder.open(upstream, method, scope, HEADERS, body)
            assert response.status == 200
            response.release()
        else:
            with pytest.raises(UpstreamFailure) as failure:
                await forwarder.open(upstream, method, scope, HEADERS, body)
            assert (failure.value.kind, failure.value.status) == ("disconnect", 502)
        await upstream.close()
    assert len(server.requests) == (3 if retried else 2)
    assert server.connections == (2 if retried else 1)


async def test_the_aiohttp_client_for_https_upstreams_answers_with_the_same_interface():
    """Run against plain http here (no TLS server in the tests): the adapter, not TLS, is under test."""
    from proxy.upstream.aiohttp_client import AiohttpClient

    chunked = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    async with RawServer([OK, chunked, OK]) as server:
        client = AiohttpClient(f"http://127.0.0.1:{server.port}", 2, 5, 4)
        status, headers, body = await fetch(client, target=b"/a?b=1")
        assert (status, body) == (200, b'{"ok": true}')
        response = await client.open("GET", b"/", HEADERS)
        assert [v for k, v in response.raw_headers if k == b"Set-Cookie"] == [b"a=1", b"b=2"]
        assert b"".join([chunk async for chunk in response.chunks()]) == b"abc"
        response.release()
        with pytest.raises(TooLarge):
            response = await client.open("GET", b"/", HEADERS)
            try:
                await response.read(4)
            finally:
                response.release()
        await client.close()
    assert server.requests[0].startswith(b"GET /a?b=1 HTTP/1.1\r\n")
    async with RawServer([OK], silent=True) as server:
        client = AiohttpClient(f"http://127.0.0.1:{server.port}", 2, 5, 4)
        with pytest.raises(UpstreamFailure) as failure:
            await fetch(client, timeout=0.2)
        assert (failure.value.kind, failure.value.status) == ("timeout", 504)
        await client.close()
    client = AiohttpClient(f"http://127.0.0.1:{server.port}", 2, 5, 4)
    with pytest.raises(UpstreamFailure) as failure:
        await fetch(client)
    assert (failure.value.kind, failure.value.retry_connect) == ("connect", True)
    await client.close()
