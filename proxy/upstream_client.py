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
https upstreams go through aiohttp (proxy/aiohttp_client.py), with the same interface.

Failures are UpstreamFailure kinds (connect / disconnect / timeout / protocol) with the status the
client should see; what may be retried is decided by proxy/forwarding.py."""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import AsyncIterator, Optional, Union

import httptools

IDLE_SECONDS = 1.5  # drop idle connections before upstreams do (gunicorn's keep-alive: 2 s)
READ_BUFFER = 256 * 1024  # stop reading from an upstream while this much waits for a slow client
_NO_BODY_BY_DEFAULT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "CONNECT"})
_PARSER_ERRORS = (httptools.HttpParserError, httptools.HttpParserUpgrade)


class UpstreamFailure(Exception):
    """The upstream did not produce a usable response. `status` is what the client should see;
    `retry_connect` says nothing reached the upstream (the connection was never established)."""

    def __init__(self, kind: str, status: int, detail: str, retry_connect: bool = False):
        super().__init__(detail)
        self.kind, self.status, self.detail, self.retry_connect = kind, status, detail, retry_connect


class TooLarge(Exception):
    """The answer is larger than the caller's limit (the shadow comparison limit)."""

    client_fault = True  # not the upstream's failure: circuit breakers do not count it


Body = Union[bytes, None, AsyncIterator[bytes]]


class UpstreamResponse:
    """An answer whose head has arrived; the body is read with read() or chunks(), then release()."""

    __slots__ = ("status", "raw_headers", "content_length", "_connection")

    def __init__(self, connection: "_Connection"):
        self._connection = connection
        self.status = connection.status
        self.raw_headers = connection.headers
        self.content_length = connection.content_length

    async def read(self, limit: Optional[int] = None) -> bytes:
        """The whole body; TooLarge beyond `limit` bytes."""
        connection = self._connection
        if limit is not None and (self.content_length or 0) > limit:
            raise TooLarge()
        parts = []
        size = 0
        while True:
            chunk = await connection.next_chunk()
            if not chunk:
                return parts[0] if len(parts) == 1 else b"".join(parts)
            size += len(chunk)
            if limit is not None and size > limit:
                raise TooLarge()
            parts.append(chunk)

    async def chunks(self) -> AsyncIterator[bytes]:
        while chunk := await self._connection.next_chunk():
            yield chunk

    def release(self) -> None:
        self._connection.finish()


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one exchange at a time."""

    def __init__(self, client: "UpstreamClient"):
        self.client = client
        self.loop = client.loop
        self.transport: Optional[asyncio.Transport] = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.active = False  # an exchange is under way
        self.timer: Optional[asyncio.TimerHandle] = None
        self._write_paused = False
        self._drain_waiter: Optional[asyncio.Future] = None

    # -- one exchange ----------------------------------------------------------------------------------

    async def exchange(self, head: bytes, body: Body, chunked: bool, head_only: bool,
                       timeout: float, deadline: bool) -> UpstreamResponse:
        self.active = True
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.content_length: Optional[int] = None
        self.framed = False  # Content-Length or chunked: else the body ends with the connection
        self.interim = False
        self.head_only = head_only
        self.got_bytes = False
        self.complete = False
        self.keep_alive = False
        self.body_sent = False
        self.error: Optional[BaseException] = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.reading_paused = False
        self.body_waiter: Optional[asyncio.Future] = None
        self.writer: Optional[asyncio.Task] = None
        self.head_waiter = self.loop.create_future()
        self.timeout, self.deadline = timeout, deadline
        self.last_activity = time.monotonic()
        # A timer handle checked on expiry, not asyncio.wait_for (a task per exchange) nor a
        # timer re-armed on every read.
        self.timer = self.loop.call_later(timeout, self._on_timer)
        if body is None or isinstance(body, bytes):
            self.transport.write(head + body if body else head)
            self.body_sent = True
        else:
            self.transport.write(head)
            self.writer = self.loop.create_task(self._send_stream(body, chunked))
        await self.head_waiter
        return UpstreamResponse(self)

    async def _send_stream(self, body: AsyncIterator[bytes], chunked: bool) -> None:
        try:
            async for chunk in body:
                if self.closed or self.complete:
                    return
                if chunk:
                    self.transport.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n" if chunked else chunk)
                    self.last_activity = time.monotonic()
                    if self._write_paused:
                        await self._drain()
            if chunked and not self.closed:
                self.transport.write(b"0\r\n\r\n")
            self.body_sent = True
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the client's body failed (too large, client gone) or the upstream went away
            if not self.head_waiter.done():
                self.head_waiter.set_exception(exc)
            self.close()

    async def next_chunk(self) -> bytes:
        """The next piece of the body; b"" at its end."""
        while True:
            if self.chunks:
                self.last_activity = time.monotonic()  # a slow client is not the upstream's read timeout
                chunk = self.chunks.popleft()
                self.buffered -= len(chunk)
                if self.reading_paused and self.buffered < READ_BUFFER:
                    self.reading_paused = False
                    self.transport.resume_reading()
                return chunk
            if self.error is not None:
                raise self.error
            if self.complete:
                return b""
            self.body_waiter = self.loop.create_future()
            await self.body_waiter

    def finish(self) -> None:
        """The caller is done with this exchange: back to the pool if it can carry another."""
        if not self.active:
            return
        self.active = False
        self.timer.cancel()
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()
        if self.complete and self.keep_alive and self.body_sent and not self.closed and not self.chunks:
            if self.head_only:  # the parser still waits for the body a HEAD answer announced
                self.parser = httptools.HttpResponseParser(self)
            self.client.put_back(self)
        else:
            self.close()

    def _on_timer(self) -> None:
        if not self.active:
            return
        if not self.deadline:
            left = self.last_activity + self.timeout - time.monotonic()
            if left > 0:
                self.timer = self.loop.call_later(left, self._on_timer)
                return
        self._fail(UpstreamFailure("timeout", 504, "did not answer in time"))

    def _fail(self, error: BaseException) -> None:
        if not self.head_waiter.done():
            self.head_waiter.set_exception(error)
        elif not self.complete:
            self.error = error
            self._wake()
        self.close()

    def _wake(self) -> None:
        waiter = self.body_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()

    # -- asyncio.Protocol ------------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.active or self.complete:  # nothing asked: an upstream talking out of turn
            self.close()
            return
        self.got_bytes = True
        self.last_activity = time.monotonic()
        try:
            self.parser.feed_data(data)
        except _PARSER_ERRORS as exc:
            self._fail(UpstreamFailure("protocol", 502, f"invalid response: {exc}"))

    def eof_received(self):
        return None  # close our side too; connection_lost follows

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.client.forget(self)
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(ConnectionResetError("upstream closed the connection"))
        if not self.active or self.complete:
            return
        if self.head_waiter.done() and not self.framed and not self.head_only and self.status not in (204, 304):
            self.complete = True  # a body without Content-Length or chunking ends with the connection
            self._wake()
            return
        detail = "closed the connection before answering" if not self.got_bytes else "closed the connection mid-answer"
        self._fail(UpstreamFailure("disconnect", 502, f"{detail}: {exc}" if exc else detail))

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_result(None)

    async def _drain(self) -> None:
        self._drain_waiter = self.loop.create_future()
        await self._drain_waiter

    # -- httptools callbacks -----------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.interim:  # the final answer after a 1xx: start its head afresh
            self.interim = False
            self.headers = []
            self.content_length = None
            self.framed = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        size = len(name)
        if size == 14 and name.lower() == b"content-length":
            self.framed = True
            try:
                self.content_length = int(value)
            except ValueError:
                pass  # the parser rejects it
        elif size == 17 and name.lower() == b"transfer-encoding":
            self.framed = True

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # 100 Continue and other interim answers: the final one follows
            self.interim = True
            return
        self.status = status
        if self.head_only or status in (204, 304):
            self.content_length = None if self.head_only else 0
        if self.head_only:  # no body whatever Content-Length says; the parser would wait for one
            self.keep_alive = self.parser.should_keep_alive()
            self.complete = True
        self.head_waiter.set_result(None)

    def on_body(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.buffered += len(chunk)
        if self.buffered >= READ_BUFFER and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.interim or self.head_only:
            return
        self.keep_alive = self.parser.should_keep_alive()
        self.complete = True
        self._wake()


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
        self._idle: deque[_Connection] = deque()
        self._open = 0
        self._waiters: deque[asyncio.Future] = deque()

    async def open(self, method: str, target: bytes, headers: list, body: Body = None,
                   timeout: Optional[float] = None) -> UpstreamResponse:
        """Send the request; the answer once its head arrived. `timeout`: a deadline for the whole
        exchange (shadow mirrors, probes); without it, the upstream's read timeout between reads."""
        deadline = timeout is not None
        started = time.monotonic()
        chunked = body is not None and not isinstance(body, bytes) and not _has(headers, "content-length")
        head = _request_head(method, target, headers, body, chunked, self.host_header)
        connection = await self._connection(timeout)
        if deadline:
            timeout = max(0.001, timeout - (time.monotonic() - started))
        try:
            return await connection.exchange(head, body, chunked, method == "HEAD",
                                             timeout if deadline else self.read_timeout, deadline)
        except BaseException:
            connection.active = False
            if connection.timer is not None:
                connection.timer.cancel()
            connection.close()
            raise

    async def _connection(self, timeout: Optional[float]) -> _Connection:
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
            connection = await waiter  # an idle connection handed over, or None: a slot is free
            if connection is not None and not connection.closed:
                return connection
        self._open += 1
        try:
            _, connection = await asyncio.wait_for(
                self.loop.create_connection(lambda: _Connection(self), self.host, self.port),
                self.connect_timeout if timeout is None else min(timeout, self.connect_timeout))
        except asyncio.TimeoutError:
            self._slot_freed()
            raise UpstreamFailure("connect", 504, "connecting timed out", retry_connect=True) from None
        except OSError as exc:
            self._slot_freed()
            raise UpstreamFailure("connect", 502, f"cannot connect: {exc}", retry_connect=True) from None
        return connection

    def put_back(self, connection: _Connection) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        connection.idle_since = time.monotonic()
        self._idle.append(connection)

    def forget(self, connection: _Connection) -> None:
        """A connection closed (connection_lost): its slot is free."""
        self._slot_freed()

    def _slot_freed(self) -> None:
        self._open -= 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


def _has(headers: list, lower_name: str) -> bool:
    return any(name.lower() == lower_name for name, _ in headers)


def _request_head(method: str, target: bytes, headers: list, body: Body, chunked: bool, host_header: bytes) -> bytes:
    """Headers go as given (names and values as the proxy forwards them); Host, Accept and the body's
    framing are added only if missing, as aiohttp's client added them before."""
    lines = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    has_host = has_length = has_accept = False
    for name, value in headers:
        lower = name.lower()
        if lower == "host":
            has_host = True
        elif lower == "content-length":
            has_length = True
        elif lower == "accept":
            has_accept = True
        lines += (name.encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n")
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
