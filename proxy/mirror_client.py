"""The shadow worker's HTTP/1.1 client: sends a mirrored request again and reads the whole answer.

Mirrors need much less than a general client: a fully buffered request (method, target, headers
exactly as sent to legacy, body), and the status, raw headers and body of the answer up to a size
limit, with keep-alive connections, a connect timeout and a deadline. aiohttp's client cost about
250-340 us of CPU per request on this machine (request and response objects, timers, tracing
hooks, stream readers); this one is an asyncio protocol around httptools' parser (the one uvicorn
already uses), a few tens of microseconds plus the two syscalls. Serving processes keep aiohttp
(streaming, retries, redirects off, everything a client's request may need).

Failures are UpstreamFailure kinds, as in proxy/forwarding.py, and count in the upstream's circuit
breaker (the shadow worker's own breakers) the same way: connection errors, timeouts and the
breaker's failure statuses."""
from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Optional

import httptools
from aiobreaker import CircuitBreakerError

from proxy.forwarding import UpstreamFailure

IDLE_SECONDS = 1.5  # like the serving side's pool: drop idle connections before upstreams do (gunicorn: 2 s)


class TooLarge(Exception):
    """The answer is larger than the comparison limit."""

    client_fault = True  # not the upstream's failure: the circuit breaker does not count it


class _FailureStatus(Exception):
    def __init__(self, answer):
        self.answer = answer


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one exchange at a time."""

    def __init__(self):
        self.transport: Optional[asyncio.Transport] = None
        self.parser = httptools.HttpResponseParser(self)
        self.idle_since = 0.0
        self.closed = False
        self._done: Optional[asyncio.Future] = None
        self._head_only = False
        self._limit = 0
        self._reset()

    def _reset(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.size = 0
        self.complete = False

    # -- asyncio.Protocol ------------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._done is None or self._done.done():  # nothing asked: an upstream talking out of turn
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            # the parser reports the limit (an exception out of on_body) as a callback error too
            self._finish(TooLarge() if self.size > self._limit else
                         UpstreamFailure("protocol", 502, f"invalid response: {exc}"))
            self.close()

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self._done is not None and not self._done.done():
            self._finish(UpstreamFailure("disconnect", 502, f"connection closed before a complete answer: {exc}"))

    # -- httptools callbacks -----------------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self._head_only:  # a HEAD answer has no body whatever Content-Length says
            self.complete = True
            self._finish(None)
            self.close()  # the parser would wait for that body: never reuse this connection

    def on_body(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._limit:
            raise TooLarge()
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        self.complete = True
        if not self.parser.should_keep_alive():
            self.close()
        self._finish(None)

    # -- use ---------------------------------------------------------------------------------------------

    def _finish(self, error: Optional[BaseException]) -> None:
        done = self._done
        if done is not None and not done.done():
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

    async def exchange(self, request: bytes, head_only: bool, limit: int, seconds: float) -> tuple[int, list, bytes]:
        self._reset()
        self._head_only = head_only
        self._limit = limit
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        # A timer handle, not asyncio.wait_for: that wraps every exchange in a task of its own.
        timer = loop.call_later(seconds, self._time_out)
        try:
            self.transport.write(request)
            await self._done
        finally:
            timer.cancel()
        return self.parser.get_status_code(), self.headers, b"".join(self.body)

    def _time_out(self) -> None:
        self._finish(UpstreamFailure("timeout", 504, "did not answer in time"))
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class MirrorClient:
    """Keep-alive connections to one upstream, for the shadow worker's mirrors (its concurrency is
    bounded by PROXY_SHADOW_MAX_INFLIGHT, so is the number of connections)."""

    def __init__(self, host: str, port: int, connect_timeout: float, breaker=None, failure_statuses=frozenset()):
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self.breaker = breaker
        self.failure_statuses = failure_statuses
        self._idle: deque[_Connection] = deque()

    @classmethod
    def for_upstream(cls, upstream) -> "MirrorClient":
        url = upstream.base_url  # http://host[:port], no path (validated in route_table.py)
        return cls(url.host, url.port, upstream.spec.connect_timeout, upstream.breaker, upstream.failure_statuses)

    async def fetch(self, method: str, raw_path: bytes, query_string: bytes, headers: list, body: bytes,
                    timeout: float, limit: int) -> tuple[int, list, bytes]:
        """(status, raw headers, body) of the answer; raises UpstreamFailure or TooLarge."""
        target = raw_path + b"?" + query_string if query_string else raw_path
        request = _request_bytes(method, target, headers, body, self.host, self.port)
        head_only = method == "HEAD"

        async def call():
            answer = await self._exchange(request, head_only, timeout, limit)
            if answer[0] in self.failure_statuses:
                raise _FailureStatus(answer)
            return answer

        try:
            if self.breaker is None:
                return await call()
            return await self.breaker.call_async(call)
        except _FailureStatus as failed:
            return failed.answer  # counted by the breaker, and compared like any answer
        except CircuitBreakerError as exc:
            cause = exc.__cause__
            if isinstance(cause, _FailureStatus):
                return cause.answer
            if isinstance(cause, (UpstreamFailure, TooLarge)):
                raise cause from None
            raise UpstreamFailure("breaker_open", 503, "circuit breaker is open") from None

    async def _exchange(self, request: bytes, head_only: bool, timeout: float, limit: int):
        deadline = time.monotonic() + timeout
        connection = await self._connection(timeout)
        try:
            answer = await connection.exchange(request, head_only, limit, max(0.0, deadline - time.monotonic()))
        except BaseException:
            connection.close()
            raise
        if not connection.closed:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        return answer

    async def _connection(self, timeout: float) -> _Connection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: least likely closed by the upstream
            if not connection.closed and now - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
        loop = asyncio.get_running_loop()
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(_Connection, self.host, self.port), min(timeout, self.connect_timeout))
        except asyncio.TimeoutError:
            raise UpstreamFailure("connect", 504, "connecting timed out") from None
        except OSError as exc:
            raise UpstreamFailure("connect", 502, f"cannot connect: {exc}") from None
        return connection

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


def _request_bytes(method: str, target: bytes, headers: list, body: bytes, host: str, port: int) -> bytes:
    """The request head and body. Headers go as given (names and values as sent to legacy, which
    validated them); Host, Accept and Content-Length are added only if missing, as the serving
    processes' aiohttp client added them for legacy."""
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
        lines.append(f"Host: {host}:{port}\r\n".encode("latin-1"))
    if not has_accept:
        lines.append(b"Accept: */*\r\n")
    if not has_length and (body or method in ("POST", "PUT", "PATCH")):
        lines.append(b"Content-Length: %d\r\n" % len(body))
    lines.append(b"\r\n")
    lines.append(body)
    return b"".join(lines)
