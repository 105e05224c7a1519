"""Shadow mode: after the client has its legacy answer, the same request goes to the new service in
the background, and on a sample a second time to legacy (noise detection, as Diffy does); the
answers are compared under the route's profile and the result recorded for triage."""
from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

import aiohttp

from proxy.compare import ResponseSnapshot
from proxy.comparison_pool import ComparisonPool
from proxy.forwarding import Forwarder, RequestBody, UpstreamFailure
from proxy.metrics import ProxyMetrics
from proxy.route_table import SAFE_METHODS, Route
from proxy.shadow_recorder import ShadowRecorder
from proxy.upstreams import Upstream

log = logging.getLogger("proxy.shadow")
SHADOW_HEADER = ("X-Vobe-Shadow", "1")  # lets the new service tell mirrored traffic apart


@dataclass
class MirroredRequest:
    """Everything needed to send the request again, and to triage a difference."""

    route: Route
    method: str
    scope: dict  # raw_path and query_string
    headers: list
    body: bytes
    request_id: str
    user: Optional[str]
    legacy: ResponseSnapshot
    legacy_ms: float

    def context(self) -> dict:
        path = self.scope["path"]
        query = self.scope["query_string"].decode("latin-1")
        return {"method": self.method, "path": path, "query": query, "request_id": self.request_id,
                "user": self.user,
                "accept": next((v for k, v in self.headers if k.lower() == "accept"), None)}


class _ReplayBody(RequestBody):
    def __init__(self, body: bytes):
        self.buffered = body
        self.too_large = False
        self.started = False


class ShadowDispatcher:
    def __init__(self, forwarder: Forwarder, comparisons: ComparisonPool, recorder: ShadowRecorder,
                 metrics: ProxyMetrics, max_inflight: int, max_body_bytes: int):
        self.forwarder = forwarder
        self.comparisons = comparisons
        self.recorder = recorder
        self.metrics = metrics
        self.max_inflight = max_inflight
        self.max_body_bytes = max_body_bytes
        self.inflight = 0
        self._tasks: set[asyncio.Task] = set()

    def admit(self, route: Route) -> bool:
        """Whether this request is mirrored (sampling and the in-flight bound)."""
        sample = route.spec.shadow.sample
        if sample < 1.0 and random.random() >= sample:
            self.metrics.shadow_dropped.labels(route.name, "sampled_out").inc()
            return False
        if self.inflight >= self.max_inflight:
            self.metrics.shadow_dropped.labels(route.name, "overloaded").inc()
            return False
        return True

    def submit(self, request: MirroredRequest, candidate: Upstream, legacy: Upstream) -> None:
        self.inflight += 1
        self.metrics.shadow_inflight.set(self.inflight)
        task = asyncio.create_task(self._run(request, candidate, legacy))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def skip(self, route: Route, request_context: dict, reason: str) -> None:
        self.recorder.record(self._base_record(route, request_context) | {"result": "skipped", "error": reason})

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        self.inflight -= 1
        self.metrics.shadow_inflight.set(self.inflight)
        if not task.cancelled() and task.exception() is not None:
            log.error("shadow exchange crashed", exc_info=task.exception())

    async def _run(self, request: MirroredRequest, candidate: Upstream, legacy: Upstream) -> None:
        route = request.route
        timeout = route.spec.shadow.timeout
        headers = [*request.headers, SHADOW_HEADER]
        noise_sampled = (request.method in SAFE_METHODS
                         and random.random() < route.spec.shadow.noise_sample)
        exchanges = [self._fetch(candidate, request, headers, timeout)]
        if noise_sampled:
            exchanges.append(self._fetch(legacy, request, request.headers, timeout))
        results = await asyncio.gather(*exchanges)
        candidate_result = results[0]
        record = self._base_record(route, request.context())
        record["legacy"] = {"status": request.legacy.status, "ms": round(request.legacy_ms, 3),
                            "bytes": len(request.legacy.body)}
        if isinstance(candidate_result, UpstreamFailure):
            record.update(result="timeout" if candidate_result.kind == "timeout" else "error",
                          error=f"{candidate_result.kind}: {candidate_result.detail}")
        elif candidate_result == "too_large":
            record.update(result="skipped", error="candidate response larger than the comparison limit")
        else:
            snapshot, ms = candidate_result
            record["candidate"] = {"status": snapshot.status, "ms": round(ms, 3), "bytes": len(snapshot.body)}
            comparison = await self.comparisons.compare(request.legacy, snapshot, route.profile)
            record["differences"] = [d.to_dict() for d in comparison.differences]
        if noise_sampled and isinstance(results[1], tuple):
            second, _ = results[1]
            noise = await self.comparisons.compare(request.legacy, second, route.profile)
            self.recorder.record(self._base_record(route, request.context()) | {
                "type": "noise", "differences": [d.to_dict() for d in noise.differences]})
        if "differences" in record:
            record["result"] = self.recorder.classify(route.name, [d["field"] for d in record["differences"]])
            noisy = self.recorder.report.noise_model(route.name).noisy_fields()
            for difference in record["differences"]:
                difference["noisy"] = difference["field"] in noisy
        self.recorder.record(record)

    async def _fetch(self, upstream: Upstream, request: MirroredRequest, headers: list, timeout: float):
        started = time.perf_counter()
        try:
            response = await self.forwarder.open(upstream, request.method, request.scope, headers,
                                                 _ReplayBody(request.body), read_timeout=timeout, retries=0)
        except UpstreamFailure as failure:
            return failure
        try:
            if (response.content_length or 0) > self.max_body_bytes:
                return "too_large"
            body = bytearray()
            async for chunk in response.content.iter_any():
                body += chunk
                if len(body) > self.max_body_bytes:
                    return "too_large"
            return (ResponseSnapshot.from_raw(response.status, response.raw_headers, bytes(body)),
                    (time.perf_counter() - started) * 1000)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            kind = "timeout" if isinstance(exc, asyncio.TimeoutError) else "disconnect"
            return UpstreamFailure(kind, 502, f"reading the answer failed: {exc}")
        finally:
            response.release()

    @staticmethod
    def _base_record(route: Route, request_context: dict) -> dict:
        return {"type": "shadow", "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "route": route.name, "target": route.spec.target, "request": request_context}

    async def drain(self, timeout: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        for task in list(self._tasks):
            task.cancel()
