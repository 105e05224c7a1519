"""Upstreams: one pooled HTTP client, one circuit breaker and one health probe per named upstream.

The pool follows the route table: an upstream whose settings did not change keeps its connections
and breaker across reloads; a changed or removed one is replaced and the old client is closed after
a grace period, so requests already in flight on it finish normally."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Optional

import aiohttp
import yarl
from aiobreaker import CircuitBreaker, CircuitBreakerListener, CircuitBreakerState

from proxy.metrics import ProxyMetrics
from proxy.route_table import RouteTable, UpstreamSpec

log = logging.getLogger("proxy.upstreams")

_BREAKER_GAUGE = {CircuitBreakerState.CLOSED: 0, CircuitBreakerState.HALF_OPEN: 1, CircuitBreakerState.OPEN: 2}
CLOSE_GRACE_SECONDS = 60.0


class _BreakerWatcher(CircuitBreakerListener):
    def __init__(self, upstream: str, metrics: ProxyMetrics):
        self.upstream, self.metrics = upstream, metrics

    def state_change(self, breaker, old, new) -> None:
        self.metrics.breaker_state.labels(self.upstream).set(_BREAKER_GAUGE[new.state])
        log.warning("circuit breaker state change", extra={
            "upstream": self.upstream, "from": old.state.name.lower() if old else None, "to": new.state.name.lower()})


class Upstream:
    def __init__(self, name: str, spec: UpstreamSpec, metrics: ProxyMetrics):
        self.name = name
        self.spec = spec
        self.base = spec.url
        self.base_url = yarl.URL(spec.url)
        self.failure_statuses = frozenset(spec.breaker.failure_statuses) if spec.breaker else frozenset()
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=spec.connect_timeout,
                                             sock_read=spec.read_timeout)
        self.session: Optional[aiohttp.ClientSession] = None
        self.mirror_client = None  # the shadow worker's client for mirrors (proxy/mirror_client.py), made on first use
        self.breaker: Optional[CircuitBreaker] = None
        if spec.breaker:
            self.breaker = CircuitBreaker(
                fail_max=spec.breaker.failures,
                timeout_duration=timedelta(seconds=spec.breaker.reset_after),
                listeners=[_BreakerWatcher(name, metrics)],
                exclude=[lambda exc: getattr(exc, "client_fault", False)],
                name=name,
            )
            metrics.breaker_state.labels(name).set(0)
        self.healthy: Optional[bool] = None
        self.health_detail = "not probed yet"

    def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.spec.max_connections, limit_per_host=0,
            # Idle pooled connections are dropped before typical upstream keep-alive limits
            # (gunicorn: 2 s) so a request rarely meets a connection the upstream just closed;
            # the rare remaining race is covered by the retry of idempotent requests.
            keepalive_timeout=1.5, ttl_dns_cache=300, enable_cleanup_closed=True,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # never keep one user's cookies for another
            auto_decompress=False,  # bodies pass through exactly as encoded
            timeout=self.timeout,
            skip_auto_headers=("User-Agent",),
        )

    @property
    def breaker_open(self) -> bool:
        return self.breaker is not None and self.breaker.current_state == CircuitBreakerState.OPEN

    @property
    def breaker_state(self) -> str:
        return self.breaker.current_state.name.lower() if self.breaker else "disabled"

    def url(self, raw_path: bytes, query_string: bytes) -> yarl.URL:
        target = self.base + raw_path.decode("latin-1")
        if query_string:
            target += "?" + query_string.decode("latin-1")
        return yarl.URL(target, encoded=True)

    async def probe(self) -> None:
        try:
            async with self.session.get(self.base + self.spec.health_path, allow_redirects=False,
                                        timeout=aiohttp.ClientTimeout(total=2)) as response:
                await response.read()
                self.healthy = response.status < 500
                self.health_detail = f"HTTP {response.status}"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            self.healthy = False
            self.health_detail = f"{type(exc).__name__}: {exc}"[:200]

    async def close(self) -> None:
        if self.mirror_client is not None:
            self.mirror_client.close()
        if self.session is not None:
            await self.session.close()

    def describe(self) -> dict:
        return {"url": self.base, "healthy": self.healthy, "health": self.health_detail,
                "breaker": self.breaker_state,
                "breaker_failures": self.breaker.fail_counter if self.breaker else None}


class UpstreamPool:
    def __init__(self, metrics: ProxyMetrics, health_interval: float):
        self.metrics = metrics
        self.health_interval = health_interval
        self.upstreams: dict[str, Upstream] = {}
        self._probe_task: Optional[asyncio.Task] = None
        self._closing: set[asyncio.Task] = set()
        self._retired: list[Upstream] = []

    def __getitem__(self, name: str) -> Upstream:
        return self.upstreams[name]

    async def sync(self, table: RouteTable) -> None:
        """Make the pool match the table's upstreams (called before the table goes live)."""
        current = dict(self.upstreams)
        fresh: dict[str, Upstream] = {}
        for name, spec in table.upstreams.items():
            existing = current.pop(name, None)
            if existing is not None and existing.spec == spec:
                fresh[name] = existing
                continue
            upstream = Upstream(name, spec, self.metrics)
            upstream.start()
            fresh[name] = upstream
            if existing is not None:
                current[name] = existing  # replaced: close later
        self.upstreams = fresh
        for old in current.values():
            self._retired.append(old)
            task = asyncio.create_task(self._close_later(old))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        await asyncio.gather(*(u.probe() for u in fresh.values() if u.healthy is None))
        self._publish_health()

    async def _close_later(self, upstream: Upstream) -> None:
        await asyncio.sleep(CLOSE_GRACE_SECONDS)
        await upstream.close()
        self._retired.remove(upstream)

    def start_probes(self) -> None:
        self._probe_task = asyncio.create_task(self._probe_loop())

    async def _probe_loop(self) -> None:
        while True:
            await asyncio.sleep(self.health_interval)
            try:
                await asyncio.gather(*(u.probe() for u in list(self.upstreams.values())))
                self._publish_health()
            except Exception:  # a probe bug must not stop probing
                log.exception("health probe round failed")

    def _publish_health(self) -> None:
        for name, upstream in self.upstreams.items():
            self.metrics.upstream_up.labels(name).set(1 if upstream.healthy else 0)

    async def close(self) -> None:
        if self._probe_task:
            self._probe_task.cancel()
        for task in list(self._closing):
            task.cancel()
        await asyncio.gather(*(u.close() for u in [*self.upstreams.values(), *self._retired]),
                             return_exceptions=True)
