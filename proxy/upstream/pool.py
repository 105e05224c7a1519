"""Upstreams: one pooled HTTP client, one circuit breaker and one health probe per named upstream.

The client is proxy/upstream/client.py's for http:// upstreams and aiohttp's for https:// ones
(proxy/upstream/aiohttp_client.py); both answer with the same response interface.

The pool follows the route table: an upstream whose settings did not change keeps its connections
and breaker across reloads; a changed or removed one is replaced and the old client is closed after
a grace period, so requests already in flight on it finish normally."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Optional

import yarl
from aiobreaker import CircuitBreaker, CircuitBreakerListener, CircuitBreakerState

from proxy.metrics import ProxyMetrics
from proxy.routing.table import RouteTable, UpstreamSpec
from proxy.upstream.aiohttp_client import AiohttpClient
from proxy.upstream.client import UpstreamClient, UpstreamFailure

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
        self.client = None  # UpstreamClient or AiohttpClient, made by start()
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
        spec = self.spec
        if self.base_url.scheme == "http":
            self.client = UpstreamClient(self.base_url.host, self.base_url.port, spec.connect_timeout,
                                         spec.read_timeout, spec.max_connections)
        else:
            self.client = AiohttpClient(self.base, spec.connect_timeout, spec.read_timeout, spec.max_connections)

    @property
    def breaker_open(self) -> bool:
        return self.breaker is not None and self.breaker.current_state == CircuitBreakerState.OPEN

    @property
    def breaker_state(self) -> str:
        return self.breaker.current_state.name.lower() if self.breaker else "disabled"

    async def probe(self) -> None:
        try:
            response = await self.client.open("GET", self.spec.health_path.encode("latin-1"), [], None, 2.0)
            try:
                await response.read()
            finally:
                response.release()
            self.healthy = response.status < 500
            self.health_detail = f"HTTP {response.status}"
        except UpstreamFailure as exc:
            self.healthy = False
            self.health_detail = f"{exc.kind}: {exc.detail}"[:200]

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()

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
