"""The shadow worker's HTTP client against small raw servers: what it sends, keep-alive reuse,
answers without a body, chunked answers, the size limit, and failures as UpstreamFailure kinds."""
from __future__ import annotations

import asyncio

import pytest

from proxy.forwarding import UpstreamFailure
from proxy.mirror_client import MirrorClient, TooLarge

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"ok": true}'


class RawServer:
    """Answers each request head it reads with the next canned answer; records what it got."""

    def __init__(self, answers: list[bytes], close_after: bool = False, silent: bool = False):
        self.answers = list(answers)
        self.close_after = close_after
        self.silent = silent
        self.requests: list[bytes] = []
        self.connections = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                if self.silent:
                    await asyncio.sleep(3600)
                writer.write(self.answers.pop(0))
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


HEADERS = [("host", "shop.example"), ("X-Request-ID", "abc"), ("X-Vobe-Shadow", "1")]


async def test_sends_the_request_as_given_and_reuses_the_connection():
    async with RawServer([OK, OK]) as server:
        client = MirrorClient("127.0.0.1", server.port, connect_timeout=2)
        for _ in range(2):
            status, headers, body = await client.fetch("GET", b"/api/v1/tracks/", b"page=2", HEADERS, b"", 5, 1024)
            assert (status, body) == (200, b'{"ok": true}')
            assert (b"Content-Type", b"application/json") in headers
        client.close()
    assert server.connections == 1
    assert server.requests[0] == (b"GET /api/v1/tracks/?page=2 HTTP/1.1\r\nhost: shop.example\r\n"
                                  b"X-Request-ID: abc\r\nX-Vobe-Shadow: 1\r\nAccept: */*\r\n\r\n")


async def test_a_body_gets_a_content_length_when_the_headers_have_none():
    async with RawServer([OK]) as server:
        client = MirrorClient("127.0.0.1", server.port, connect_timeout=2)
        await client.fetch("POST", b"/api/v1/orders/", b"", HEADERS, b'{"a": 1}', 5, 1024)
        client.close()
    assert server.requests[0].endswith(b"Content-Length: 8\r\n\r\n{\"a\": 1}")


async def test_head_answer_ends_at_the_head_and_chunked_answers_are_joined():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    async with RawServer([head]) as first, RawServer([chunked]) as second:
        status, _, body = await MirrorClient("127.0.0.1", first.port, 2).fetch("HEAD", b"/", b"", HEADERS, b"", 5, 1024)
        assert (status, body) == (200, b"")
        status, _, body = await MirrorClient("127.0.0.1", second.port, 2).fetch("GET", b"/", b"", HEADERS, b"", 5, 1024)
        assert (status, body) == (200, b"abcde")


async def test_a_closed_connection_is_not_reused():
    async with RawServer([OK, OK], close_after=True) as server:
        client = MirrorClient("127.0.0.1", server.port, connect_timeout=2)
        for _ in range(2):
            assert (await client.fetch("GET", b"/", b"", HEADERS, b"", 5, 1024))[0] == 200
            await asyncio.sleep(0.05)  # let the close arrive
        client.close()
    assert server.connections == 2


async def test_limits_and_failures():
    async with RawServer([OK]) as server:
        with pytest.raises(TooLarge):
            await MirrorClient("127.0.0.1", server.port, 2).fetch("GET", b"/", b"", HEADERS, b"", 5, 4)
    async with RawServer([OK], silent=True) as server:
        with pytest.raises(UpstreamFailure) as failure:
            await MirrorClient("127.0.0.1", server.port, 2).fetch("GET", b"/", b"", HEADERS, b"", 0.2, 1024)
        assert failure.value.kind == "timeout"
    async with RawServer([b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"], close_after=True) as server:
        with pytest.raises(UpstreamFailure) as failure:
            await MirrorClient("127.0.0.1", server.port, 2).fetch("GET", b"/", b"", HEADERS, b"", 5, 1024)
        assert failure.value.kind == "disconnect"
    async with RawServer([b"NOT HTTP AT ALL\r\n\r\n"]) as server:
        with pytest.raises(UpstreamFailure) as failure:
            await MirrorClient("127.0.0.1", server.port, 2).fetch("GET", b"/", b"", HEADERS, b"", 5, 1024)
        assert failure.value.kind == "protocol"
    async with RawServer([]) as server:
        port = server.port
    with pytest.raises(UpstreamFailure) as failure:
        await MirrorClient("127.0.0.1", port, 2).fetch("GET", b"/", b"", HEADERS, b"", 5, 1024)
    assert failure.value.kind == "connect"
