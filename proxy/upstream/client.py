"""The HTTP/1.1 client towards http:// upstreams, for the serving processes (every proxied request)
and the shadow worker (mirrors): per upstream a pool of keep-alive connections, each an asyncio
protocol around httptools' parser (the one uvicorn already uses to read clients' requests).

Why not aiohttp's client here: on this hot path it cost about 200-340 us of CPU per request
(request and response objects, URL and header multidicts, timers, tracing hooks, stream readers,
a task per streamed body); this client does what the proxy needs in a few tens of microseconds
plus the two syscalls. What it does: request bodies as bytes or streamed (raw with the client's
Content-Length, else chunked), answers framed by Content-Length, chunked or the connection's end,
no body for HEAD/204/304, 1xx interim answers skipped, `Connection: close` honoured, an idle pooled
connection the upstream closed never reused, an upstream that answers before it read the whole
request body, a connect timeout and a read timeout (between reads, like nginx's, or a deadline).
https upstreams go through aiohttp (proxy/upstream/aiohttp_client.py), with the same interface. The
connection and its protocol handling are proxy/upstream/connection.py; this module is the pool.

Failures are UpstreamFailure kinds (connect / disconnect / timeout / protocol) with the status the
client should see; what may be retried is decided by proxy/serving/forwarding.py."""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Optional

from proxy.upstream.connection import Body, TooLarge, UpstreamConnection, UpstreamFailure, UpstreamResponse

__all__ = ["Body", "TooLarge", "UpstreamClient", "UpstreamFailure", "UpstreamResponse"]

IDLE_SECONDS = 1.5  # drop idle connections before upstreams do (gunicorn's keep-alive: 2 s)
_NO_BODY_BY_DEFAULT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "CONNECT"})


class UpstreamClient:
    """Keep-alive connections to one http:// upstream, at most `max_connections` at once (more
    exchanges wait for one)."""

    def __init__(self, host: str, port: int, connect_timeout: float, read_timeout: float,
                 max_connections: int = 256):
        self.host, self.port = host, port
        self.host_header = f"Host: {host}:{port}\r\n".encode("latin-1")
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.max_connections = max_connections
        self.loop: Optional[asyncio.AbstractEventLoop] = None  # the running loop, from the first request
        self._idle: deque[UpstreamConnection] = deque()
        self._open = 0
        self._waiters: deque[asyncio.Future] = deque()

    async def open(self, method: str, target: bytes, headers: list, body: Body = None,
                   timeout: Optional[float] = None) -> UpstreamResponse:
        """Send the request; the answer once its head arrived. `timeout`: a deadline for the whole
        exchange (shadow mirrors, probes); without it, the upstream's read timeout between reads."""
        deadline = timeout is not None
        started = time.monotonic()
        chunked = body is not None and not isinstance(body, bytes) and not _has(headers, b"content-length")
        head = _request_head(method, target, headers, body, chunked, self.host_header)
        connection = await self._connection(timeout)
        if deadline:
            timeout = max(0.001, timeout - (time.monotonic() - started))
        try:
            return await connection.exchange(head, body, chunked, method == "HEAD",
                                             timeout if deadline else self.read_timeout, deadline)
        except BaseException:
            connection.finish()  # failed or cancelled: closed (it goes back only after a whole answer)
            raise

    async def _connection(self, timeout: Optional[float]) -> UpstreamConnection:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        while True:
            now = time.monotonic()
            while self._idle:
                connection = self._idle.pop()  # the most recently used: least likely closed by the upstream
                if not connection.closed and now - connection.idle_since < IDLE_SECONDS:
                    return connection
                connection.close()
            if self._open < self.max_connections:
                break
            waiter = self.loop.create_future()
            self._waiters.append(waiter)
            try:
                connection = await waiter  # an idle connection handed over, or None: a slot is free
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():  # handed over, then cancelled: pass it on
                    handed = waiter.result()
                    if handed is not None:
                        self.put_back(handed)
                    else:
                        self._wake_waiter()
                raise
            if connection is not None and not connection.closed:
                return connection
        self._open += 1
        try:
            _, connection = await asyncio.wait_for(
                self.loop.create_connection(lambda: UpstreamConnection(self), self.host, self.port),
                self.connect_timeout if timeout is None else min(timeout, self.connect_timeout))
        except asyncio.CancelledError:
            self._slot_freed()
            raise
        except asyncio.TimeoutError:
            self._slot_freed()
            raise UpstreamFailure("connect", 504, "connecting timed out", retry_connect=True) from None
        except OSError as exc:
            self._slot_freed()
            raise UpstreamFailure("connect", 502, f"cannot connect: {exc}", retry_connect=True) from None
        return connection

    def put_back(self, connection: UpstreamConnection) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)

    def forget(self, connection: UpstreamConnection) -> None:
        """A connection closed (connection_lost): its slot is free."""
        self._slot_freed()

    def _slot_freed(self) -> None:
        self._open -= 1
        self._wake_waiter()

    def _wake_waiter(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


def _has(headers: list, lower_name: bytes) -> bool:
    return any(name.lower() == lower_name for name, _ in headers)


def _request_head(method: str, target: bytes, headers: list, body: Body, chunked: bool, host_header: bytes) -> bytes:
    """Headers go as given ((name, value) bytes, as the proxy forwards them); Host, Accept and the
    body's framing are added only if missing, as aiohttp's client added them before."""
    lines = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    has_host = has_length = has_accept = False
    for name, value in headers:
        lower = name.lower()
        if lower == b"host":
            has_host = True
        elif lower == b"content-length":
            has_length = True
        elif lower == b"accept":
            has_accept = True
        lines += (name, b": ", value, b"\r\n")
    if not has_host:
        lines.append(host_header)
    if not has_accept:
        lines.append(b"Accept: */*\r\n")
    if chunked:
        lines.append(b"Transfer-Encoding: chunked\r\n")
    elif not has_length and (body or method not in _NO_BODY_BY_DEFAULT):
        lines.append(b"Content-Length: %d\r\n" % (len(body) if body else 0))
    lines.append(b"\r\n")
    return b"".join(lines)
