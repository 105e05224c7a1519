"""Forwarding one client request to one upstream and relaying the answer, streaming both ways.

Failures are turned into a small set of kinds the caller acts on (answer 502/503/504, or fall
back to legacy). Retries happen only where they cannot duplicate work: on a connection that was
never established (any method), or on a pooled connection the upstream closed before answering
(idempotent methods only) — and only if the request body can be sent again."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Optional

import aiohttp
from aiobreaker import CircuitBreakerError

from proxy.metrics import ProxyMetrics
from proxy.request_headers import response_headers
from proxy.upstreams import Upstream

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SMALL_BODY = 64 * 1024  # responses up to this size (with Content-Length) are relayed in one piece
_SKIP_AUTO = ("Accept-Encoding", "User-Agent", "Content-Type")


class BodyTooLarge(Exception):
    client_fault = True  # the circuit breaker does not count it against the upstream


class ClientGone(ConnectionResetError):
    client_fault = True


class UpstreamFailure(Exception):
    """The upstream did not produce a usable response. `status` is what the client should see."""

    def __init__(self, kind: str, status: int, detail: str, retry_connect: bool = False):
        super().__init__(detail)
        self.kind, self.status, self.detail, self.retry_connect = kind, status, detail, retry_connect


class _FailureStatus(Exception):
    """Raised inside the breaker so a 502/503/504 answer counts as a failure; carries the response."""

    def __init__(self, response: aiohttp.ClientResponse):
        self.response = response


class RequestBody:
    """The client's request body: none, buffered (can be sent again) or streamed once."""

    def __init__(self, scope: dict, receive, limit: int):
        self.receive = receive
        self.limit = limit
        self.too_large = False
        self.started = False
        self.received = 0
        self._prefix: list[bytes] = []
        self._done = False
        length: Optional[int] = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = -1
            elif name == b"transfer-encoding":
                chunked = True
        self.declared_length = length
        self.buffered: Optional[bytes] = b"" if (not chunked and not length) else None
        if self.buffered is not None:
            self._done = True

    @property
    def replayable(self) -> bool:
        return self.buffered is not None

    async def buffer(self, up_to: int) -> bool:
        """Read the body into memory if it is at most `up_to` bytes; True when fully buffered."""
        while not self._done:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise asyncio.CancelledError("client disconnected")
            chunk = message.get("body", b"")
            self.received += len(chunk)
            if self.received > self.limit:
                self.too_large = True
                raise BodyTooLarge()
            if chunk:
                self._prefix.append(chunk)
            self._done = not message.get("more_body", False)
            if not self._done and self.received > up_to:
                return False
        if self.buffered is None:
            self.buffered = b"".join(self._prefix)
            self._prefix = []
        return True

    def payload(self):
        """What to hand the HTTP client: bytes (or None) when buffered, else a one-shot stream."""
        if self.buffered is not None:
            return self.buffered or None
        return self._stream()

    async def _stream(self) -> AsyncIterator[bytes]:
        self.started = True
        for chunk in self._prefix:
            yield chunk
        self._prefix = []
        while not self._done:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone("client disconnected while sending the body")
            chunk = message.get("body", b"")
            self.received += len(chunk)
            if self.received > self.limit:
                self.too_large = True
                raise BodyTooLarge()
            self._done = not message.get("more_body", False)
            if chunk:
                yield chunk


class ResponseTee:
    """A bounded copy of a relayed response, for shadow comparison."""

    __slots__ = ("limit", "status", "headers", "chunks", "size", "overflow")

    def __init__(self, limit: int):
        self.limit = limit
        self.status = 0
        self.headers: list = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.overflow = True
            self.chunks = []
        elif not self.overflow:
            self.chunks.append(chunk)

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


class Forwarder:
    def __init__(self, metrics: ProxyMetrics):
        self.metrics = metrics

    async def open(self, upstream: Upstream, method: str, scope: dict, headers: list, body: RequestBody,
                   read_timeout: Optional[float] = None, retries: Optional[int] = None) -> aiohttp.ClientResponse:
        """Send the request; return the response once its head has arrived, or raise UpstreamFailure
        (or BodyTooLarge)."""
        url = upstream.url(scope["raw_path"], scope["query_string"])
        attempts = 1 + (upstream.spec.retries if retries is None else retries)
        timeout = None if read_timeout is None else aiohttp.ClientTimeout(
            total=read_timeout, sock_connect=upstream.spec.connect_timeout)
        for attempt in range(attempts):
            try:
                return await self._once(upstream, method, url, headers, body, timeout)
            except UpstreamFailure as failure:
                can_resend = body.replayable or not body.started
                safe = failure.retry_connect or (failure.kind == "disconnect" and method in IDEMPOTENT)
                if attempt + 1 < attempts and can_resend and safe:
                    self.metrics.retries.labels(upstream.name).inc()
                    continue
                self.metrics.upstream_errors.labels(upstream.name, failure.kind).inc()
                raise
        raise AssertionError("unreachable")

    async def _once(self, upstream: Upstream, method: str, url, headers, body: RequestBody, timeout):
        async def call():
            options = {"timeout": timeout} if timeout is not None else {}
            try:
                response = await upstream.session.request(
                    method, url, headers=headers, data=body.payload(), allow_redirects=False,
                    skip_auto_headers=_SKIP_AUTO, **options)
            except Exception:
                if body.too_large:
                    raise BodyTooLarge() from None
                raise
            if response.status in upstream.failure_statuses:
                raise _FailureStatus(response)
            return response

        try:
            if upstream.breaker is None:
                return await call()
            return await upstream.breaker.call_async(call)
        except _FailureStatus as failed:
            self.metrics.upstream_errors.labels(upstream.name, "status").inc()
            return failed.response
        except CircuitBreakerError as exc:
            cause = exc.__cause__
            if isinstance(cause, _FailureStatus):
                self.metrics.upstream_errors.labels(upstream.name, "status").inc()
                return cause.response
            if isinstance(cause, BodyTooLarge):
                raise cause
            if cause is None:
                raise UpstreamFailure("breaker_open", 503, f"circuit breaker for {upstream.name} is open") from None
            raise _classify(cause, upstream.name) from cause
        except BodyTooLarge:
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise _classify(exc, upstream.name) from exc

    async def relay(self, response: aiohttp.ClientResponse, send, method: str,
                    tee: Optional[ResponseTee] = None) -> None:
        """Send the upstream's response to the client, streaming large or open-ended bodies."""
        headers = response_headers(response.raw_headers)
        if tee is not None:
            tee.status, tee.headers = response.status, headers
        try:
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            length = response.content_length
            if method == "HEAD" or response.status in (204, 304) or (length is not None and length <= SMALL_BODY):
                body = await response.read()
                if tee is not None:
                    tee.add(body)
                await send({"type": "http.response.body", "body": body})
                return
            async for chunk in response.content.iter_any():
                if tee is not None:
                    tee.add(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            response.release()


def _classify(exc: BaseException, upstream: str) -> UpstreamFailure:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamFailure("connect", 504, f"connecting to {upstream} timed out", retry_connect=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamFailure("connect", 502, f"cannot connect to {upstream}: {exc.os_error}", retry_connect=True)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return UpstreamFailure("timeout", 504, f"{upstream} did not answer in time")
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, ConnectionError)):
        return UpstreamFailure("disconnect", 502, f"{upstream} closed the connection: {exc}")
    return UpstreamFailure("protocol", 502, f"{upstream} sent an invalid response: {exc}")
