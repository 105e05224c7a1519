"""Forwarding one client request to one upstream and relaying the answer, streaming both ways.

Failures are turned into a small set of kinds the caller acts on (answer 502/503/504, or fall
back to legacy). Retries happen only where they cannot duplicate work: on a connection that was
never established (any method), or on a connection the upstream closed before answering
(idempotent methods only) — and only if the request body can be sent again. The HTTP client is
the upstream's (proxy/upstream/client.py for http, aiohttp for https); both answer with the same
response interface."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Optional

from proxy.metrics import ProxyMetrics
from proxy.serving.request_headers import WAL_LSN_HEADER, response_headers
from proxy.upstream.breaker_call import FailureStatus, call_through_breaker
from proxy.upstream.client import UpstreamFailure
from proxy.upstream.pool import Upstream

__all__ = ["BodyTooLarge", "ClientGone", "Forwarder", "RequestBody", "ResponseTee", "UpstreamFailure"]

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SMALL_BODY = 64 * 1024  # responses up to this size (with Content-Length) are relayed in one piece


class BodyTooLarge(Exception):
    client_fault = True  # the circuit breaker does not count it against the upstream


class ClientGone(ConnectionResetError):
    client_fault = True


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


def wal_lsn_header(raw_headers) -> list[tuple[bytes, bytes]]:
    """Legacy's X-Vobe-Wal-Lsn header, if it sent one, as a one-element list."""
    for name, value in raw_headers:
        if len(name) == len(WAL_LSN_HEADER) and name.lower() == WAL_LSN_HEADER:
            return [(WAL_LSN_HEADER, value)]
    return []


def target_of(scope: dict) -> bytes:
    """The request target sent upstream: the client's raw path and query, byte for byte."""
    query = scope["query_string"]
    return scope["raw_path"] + b"?" + query if query else scope["raw_path"]


class Forwarder:
    def __init__(self, metrics: ProxyMetrics):
        self.metrics = metrics

    async def open(self, upstream: Upstream, method: str, scope: dict, headers: list, body: RequestBody,
                   retries: Optional[int] = None):
        """Send the request; return the response once its head has arrived, or raise UpstreamFailure
        (or BodyTooLarge)."""
        target = target_of(scope)
        attempts = 1 + (upstream.spec.retries if retries is None else retries)
        for attempt in range(attempts):
            try:
                return await self._once(upstream, method, target, headers, body)
            except UpstreamFailure as failure:
                can_resend = body.replayable or not body.started
                safe = failure.retry_connect or (failure.kind == "disconnect" and method in IDEMPOTENT)
                if attempt + 1 < attempts and can_resend and safe:
                    self.metrics.retries.labels(upstream.name).inc()
                    continue
                self.metrics.upstream_errors.labels(upstream.name, failure.kind).inc()
                raise
        raise AssertionError("unreachable")

    async def _once(self, upstream: Upstream, method: str, target: bytes, headers, body: RequestBody):
        async def call():
            try:
                response = await upstream.client.open(method, target, headers, body.payload())
            except ClientGone:
                raise
            except Exception:
                if body.too_large:
                    raise BodyTooLarge() from None
                raise
            if response.status in upstream.failure_statuses:
                raise FailureStatus(response)
            return response

        try:
            response = await call_through_breaker(upstream.breaker, call, upstream.name)
        except ClientGone as gone:
            raise UpstreamFailure("disconnect", 502, str(gone)) from None
        if response.status in upstream.failure_statuses:
            self.metrics.upstream_errors.labels(upstream.name, "status").inc()
        return response

    async def fetch(self, upstream: Upstream, method: str, scope: dict, headers: list, body: bytes,
                    timeout: float, limit: int) -> tuple[int, list, bytes]:
        """The whole answer of a buffered request within `timeout` (shadow mirrors): (status, raw
        headers, body). No retry; raises UpstreamFailure, or TooLarge past `limit` bytes."""
        target = target_of(scope)

        async def call():
            response = await upstream.client.open(method, target, headers, body or None, timeout)
            try:
                answer = (response.status, response.raw_headers, await response.read(limit))
            finally:
                response.release()
            if answer[0] in upstream.failure_statuses:
                raise FailureStatus(answer)
            return answer

        try:
            answer = await call_through_breaker(upstream.breaker, call, upstream.name)
        except UpstreamFailure as failure:
            self.metrics.upstream_errors.labels(upstream.name, failure.kind).inc()
            raise
        if answer[0] in upstream.failure_statuses:
            self.metrics.upstream_errors.labels(upstream.name, "status").inc()
        return answer

    async def relay(self, response, send, method: str, tee: Optional[ResponseTee] = None) -> None:
        """Send the upstream's response to the client, streaming large or open-ended bodies."""
        headers = response_headers(response.raw_headers)
        if response.status in (204, 304):
            # No body follows. A Content-Length there (a 304's is the full answer's size; a 204 must
            # not have one) would make uvicorn expect that many bytes and fail the response.
            headers = [header for header in headers if header[0] != b"content-length"]
        if tee is not None:
            # The shadow worker also needs the WAL position the client was not shown.
            tee.status, tee.headers = response.status, headers + wal_lsn_header(response.raw_headers)
        try:
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            length = response.content_length
            if method == "HEAD" or response.status in (204, 304) or (length is not None and length <= SMALL_BODY):
                body = await response.read()
                if tee is not None:
                    tee.add(body)
                await send({"type": "http.response.body", "body": body})
                return
            async for chunk in response.chunks():
                if tee is not None:
                    tee.add(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            response.release()
