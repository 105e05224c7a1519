"""One keep-alive connection to an http:// upstream carrying one exchange at a time: an asyncio
protocol around httptools' response parser (the parser uvicorn already uses for clients' requests),
and the answer it hands out (UpstreamResponse). The pool is proxy/upstream/client.py.

Framing: Content-Length, chunked, or the connection's end; no body for HEAD/204/304 (and no reuse
after a 204/304 whose head announced one); 1xx interim answers skipped. Flow control both ways: a
streamed request body waits while the socket's buffer is full, reading pauses while READ_BUFFER
bytes wait for a slow client. An answer may come before the request body was sent whole (the rest
is not sent; the connection is not reused). Timeouts: between reads, or a deadline for the whole
exchange."""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import AsyncIterator, Optional, Protocol, Union

import httptools

READ_BUFFER = 256 * 1024  # stop reading from an upstream while this much waits for a slow client
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

    def __init__(self, connection: "UpstreamConnection"):
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


class ConnectionOwner(Protocol):
    """What a connection needs from whoever pooled it (proxy/upstream/client.py): the loop, and
    where it goes after a whole answer or once closed. The connection never imports the pool."""

    loop: asyncio.AbstractEventLoop

    def put_back(self, connection: "UpstreamConnection") -> None: ...

    def forget(self, connection: "UpstreamConnection") -> None: ...


class UpstreamConnection(asyncio.Protocol):
    """One keep-alive connection carrying one exchange at a time."""

    def __init__(self, client: ConnectionOwner):
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
        self.reusable = True  # False: what this answer's head says makes the connection unsafe to reuse
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
        if status in (204, 304) and self.framed and self.content_length != 0:
            # No body may follow these answers, yet some servers (uvicorn, for one) send the one the
            # head announces, maybe a little later: read as the start of the next answer on this
            # connection, it would fail that one.
            self.reusable = False
        if self.head_only or status in (204, 304):
            self.content_length = None if self.head_only else 0
        if self.head_only:  # no body whatever Content-Length says; the parser would wait for one
            self.keep_alive = self.parser.should_keep_alive() and self.reusable
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
        self.keep_alive = self.parser.should_keep_alive() and self.reusable
        self.complete = True
        self._wake()
