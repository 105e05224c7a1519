"""https upstreams: aiohttp's pooled client behind the interface of proxy/upstream/client.py (open a
request, read or stream the answer, release it), with its errors turned into the same
UpstreamFailure kinds. http upstreams, the common case, use the leaner client; TLS is rare enough
between the proxy and its upstreams that it keeps aiohttp rather than a second TLS code path."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator, Optional

import aiohttp
import yarl

from proxy.upstream.client import Body, TooLarge, UpstreamFailure

_SKIP_AUTO = ("Accept-Encoding", "User-Agent", "Content-Type")
_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class AiohttpResponse:
    __slots__ = ("_response", "status", "raw_headers", "content_length")

    def __init__(self, response: aiohttp.ClientResponse):
        self._response = response
        self.status = response.status
        self.raw_headers = response.raw_headers
        self.content_length = response.content_length

    async def read(self, limit: Optional[int] = None) -> bytes:
        if limit is not None and (self.content_length or 0) > limit:
            raise TooLarge()
        body = bytearray()
        async for chunk in self.chunks():
            body += chunk
            if limit is not None and len(body) > limit:
                raise TooLarge()
        return bytes(body)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except _ERRORS as exc:
            raise classify(exc) from exc

    def release(self) -> None:
        self._response.release()


class AiohttpClient:
    def __init__(self, base_url: str, connect_timeout: float, read_timeout: float, max_connections: int):
        self.base = base_url
        self.connect_timeout = connect_timeout
        connector = aiohttp.TCPConnector(
            limit=max_connections, limit_per_host=0,
            # Idle pooled connections are dropped before typical upstream keep-alive limits
            # (gunicorn: 2 s); the rare remaining race is covered by the retry of idempotent requests.
            keepalive_timeout=1.5, ttl_dns_cache=300, enable_cleanup_closed=True,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # never keep one user's cookies for another
            auto_decompress=False,  # bodies pass through exactly as encoded
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=read_timeout),
            skip_auto_headers=("User-Agent",),
        )

    async def open(self, method: str, target: bytes, headers: list, body: Body = None,
                   timeout: Optional[float] = None) -> AiohttpResponse:
        url = yarl.URL(self.base + target.decode("latin-1"), encoded=True)
        options = {}
        if timeout is not None:
            options["timeout"] = aiohttp.ClientTimeout(total=timeout, sock_connect=self.connect_timeout)
        try:
            text_headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
            response = await self.session.request(method, url, headers=text_headers, data=body, allow_redirects=False,
                                                  skip_auto_headers=_SKIP_AUTO, **options)
        except _ERRORS as exc:
            raise classify(exc) from exc
        return AiohttpResponse(response)

    async def close(self) -> None:
        await self.session.close()


def classify(exc: BaseException) -> UpstreamFailure:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamFailure("connect", 504, "connecting timed out", retry_connect=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamFailure("connect", 502, f"cannot connect: {exc.os_error}", retry_connect=True)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return UpstreamFailure("timeout", 504, "did not answer in time")
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, ConnectionError)):
        return UpstreamFailure("disconnect", 502, f"closed the connection: {exc}")
    return UpstreamFailure("protocol", 502, f"sent an invalid response: {exc}")
