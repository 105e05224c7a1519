"""Shadow exchanges, run in the shadow worker process: the request the client already had answered
by legacy goes to the new service, and on a sample a second time to legacy (noise detection, as
Diffy does); the answers are compared under the route's profile and the result recorded for triage."""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from proxy.compare import ResponseSnapshot, candidate_failed
from proxy.routing.canary import jwt_subject
from proxy.routing.table import SAFE_METHODS, Route
from proxy.serving.forwarding import Forwarder
from proxy.shadow.cdc_wait import CdcWaits, int_to_lsn, legacy_lsn, route_position
from proxy.shadow.comparison_pool import ComparisonPool
from proxy.shadow.recorder import ShadowRecorder
from proxy.upstream.client import TooLarge, UpstreamFailure
from proxy.upstream.pool import Upstream

SHADOW_HEADER = (b"X-Vobe-Shadow", b"1")  # lets the new service tell mirrored traffic apart


@dataclass
class MirroredRequest:
    """Everything needed to send the request again, and to triage a difference.

    The serving process sends these fields as a plain tuple (`as_frame`), in this order."""

    route: str
    method: str
    path: str
    raw_path: bytes
    query_string: bytes
    headers: list  # (name, value) bytes, as sent to legacy
    body: bytes
    request_id: str
    legacy_status: int
    legacy_headers: list  # (name, value) bytes, as relayed to the client
    legacy_body: bytes
    legacy_ms: float

    def as_frame(self) -> tuple:
        return ("mirror", self.route, self.method, self.path, self.raw_path, self.query_string, self.headers,
                self.body, self.request_id, self.legacy_status, self.legacy_headers, self.legacy_body,
                self.legacy_ms)

    @classmethod
    def from_frame(cls, frame: tuple) -> "MirroredRequest":
        return cls(*frame[1:])

    @property
    def scope(self) -> dict:
        return {"path": self.path, "raw_path": self.raw_path, "query_string": self.query_string}

    def context(self) -> dict:
        user = None
        accept = None
        for name, value in self.headers:
            lower = name.lower()
            if lower == b"authorization" and value[:7].lower() == b"bearer ":
                user = jwt_subject(value[7:].strip().decode("latin-1"))
            elif lower == b"accept" and accept is None:
                accept = value.decode("latin-1")
        return {"method": self.method, "path": self.path, "query": self.query_string.decode("latin-1"),
                "request_id": self.request_id, "user": user, "accept": accept}


class ShadowRunner:
    def __init__(self, forwarder: Forwarder, comparisons: ComparisonPool, recorder: ShadowRecorder,
                 max_body_bytes: int, cdc_waits: Optional[CdcWaits] = None):
        self.forwarder = forwarder
        self.comparisons = comparisons
        self.recorder = recorder
        self.max_body_bytes = max_body_bytes
        self.cdc_waits = cdc_waits if cdc_waits is not None else CdcWaits()

    def skip(self, route: str, target: Optional[str], request_context: dict, reason: str) -> None:
        self.recorder.record(base_record(route, target, request_context) | {"result": "skipped", "error": reason})

    async def run(self, request: MirroredRequest, route: Route, candidate: Upstream, legacy: Upstream) -> None:
        timeout = route.spec.shadow.timeout
        cdc = await self._wait_for_cdc(request, route, candidate)
        if cdc is not None and not cdc.pop("reached"):
            record = base_record(route.name, route.spec.target, request.context())
            record.update(result="lagging", cdc=cdc,
                          legacy={"status": request.legacy_status, "ms": round(request.legacy_ms, 3),
                                  "bytes": len(request.legacy_body)},
                          error=f"candidate at {cdc['candidate_lsn']} had not applied legacy's "
                                f"{cdc['legacy_lsn']} after {cdc['waited_ms']:.0f} ms")
            self.recorder.record(record)
            return
        headers = [*request.headers, SHADOW_HEADER]
        noise_sampled = (request.method in SAFE_METHODS
                         and random.random() < route.spec.shadow.noise_sample)
        if noise_sampled:
            results = await asyncio.gather(self._fetch(candidate, request, headers, timeout),
                                           self._fetch(legacy, request, request.headers, timeout))
        else:  # gather would wrap the one exchange in a task of its own
            results = (await self._fetch(candidate, request, headers, timeout),)
        candidate_result = results[0]
        legacy_snapshot = ResponseSnapshot.from_raw(request.legacy_status, request.legacy_headers, request.legacy_body)
        context = request.context()
        record = base_record(route.name, route.spec.target, context)
        record["legacy"] = {"status": request.legacy_status, "ms": round(request.legacy_ms, 3),
                            "bytes": len(request.legacy_body)}
        if cdc is not None:
            record["cdc"] = cdc
        if isinstance(candidate_result, UpstreamFailure):
            record.update(result="timeout" if candidate_result.kind == "timeout" else "error",
                          error=f"{candidate_result.kind}: {candidate_result.detail}")
        elif candidate_result == "too_large":
            record.update(result="skipped", error="candidate response larger than the comparison limit")
        else:
            snapshot, ms = candidate_result
            record["candidate"] = {"status": snapshot.status, "ms": round(ms, 3), "bytes": len(snapshot.body)}
            comparison = await self.comparisons.compare(legacy_snapshot, snapshot, route.profile,
                                                        request.query_string)
            record["differences"] = [d.to_dict() for d in comparison.differences]
            if comparison.checks:
                record["checks"] = list(comparison.checks)
            if cdc is not None and cdc["legacy_lsn"] is not None and not comparison.matched:
                settled = await self._legacy_again(request, legacy, legacy_snapshot, snapshot, route, timeout)
                if settled == "match":       # the candidate is legacy's newer answer: the data moved
                    cdc["settled"] = "legacy answered again as the candidate did"
                    cdc["differences_first"] = record.pop("differences")
                    record["differences"] = []
                elif settled == "moved":     # both moved: nothing to compare the candidate with
                    cdc["differences_first"] = record.pop("differences")
                    record.update(result="lagging", error="the data changed between legacy's two answers and "
                                                          "the candidate matches neither")
        if noise_sampled and isinstance(results[1], tuple):
            second, _ = results[1]
            noise = await self.comparisons.compare(legacy_snapshot, second, route.profile, request.query_string)
            self.recorder.record(base_record(route.name, route.spec.target, context) | {
                "type": "noise", "differences": [d.to_dict() for d in noise.differences]})
        if "differences" in record:
            differences = record["differences"]
            model = self.recorder.report.noise_model(route.name, route.profile.noise)
            if candidate_failed(request.legacy_status, record["candidate"]["status"]):
                # an errored mirror, counted apart (its differences are kept for triage)
                record.update(result="error", error=f"candidate answered {record['candidate']['status']} "
                                                    f"where legacy answered {request.legacy_status}")
            else:
                record["result"] = model.classify([d["field"] for d in differences])
            if differences:
                noisy = model.noisy_fields()
                for difference in differences:
                    difference["noisy"] = difference["field"] in noisy
        self.recorder.record(record)

    async def _legacy_again(self, request: MirroredRequest, legacy: Upstream, first: ResponseSnapshot,
                            candidate: ResponseSnapshot, route: Route, timeout: float) -> Optional[str]:
        """A candidate that had applied legacy's position differs: it may be AHEAD of legacy's answer
        (the wait only bounds it from below; a row changed after legacy answered is in it). Legacy,
        asked again after the candidate answered, reflects everything the candidate could have
        applied. "match": the candidate equals that newer answer; "moved": legacy's two answers
        differ and the candidate is neither; None: legacy answered the same again, the difference
        stands (or legacy did not answer)."""
        again = await self._fetch(legacy, request, request.headers, timeout)
        if not isinstance(again, tuple):
            return None
        second, _ = again
        if (await self.comparisons.compare(second, candidate, route.profile, request.query_string)).matched:
            return "match"
        if not (await self.comparisons.compare(first, second, route.profile, request.query_string)).matched:
            return "moved"
        return None

    async def _wait_for_cdc(self, request: MirroredRequest, route: Route, candidate: Upstream) -> Optional[dict]:
        """None when no wait applies (the candidate is not CDC-fed, the wait is 0, a write mirror);
        else {"reached": bool, legacy_lsn, candidate_lsn, waited_ms} (proxy/shadow/cdc_wait.py)."""
        spec = candidate.spec.cdc
        if spec is None or request.method not in SAFE_METHODS:
            return None
        shadow = route.spec.shadow
        wait = shadow.cdc_wait if shadow.cdc_wait is not None else spec.wait
        if wait <= 0:
            return None
        target = legacy_lsn(request.legacy_headers)
        if target is None:  # legacy did not say (an old monolith, a failed read): compare, and say so
            return {"reached": True, "legacy_lsn": None, "candidate_lsn": None, "waited_ms": 0.0}
        tables = tuple(shadow.cdc_tables) if shadow.cdc_tables else None
        watch = self.cdc_waits.watch(candidate)
        started = time.perf_counter()
        reached = await watch.wait(target, tables, wait)
        applied = route_position(watch.position, tables)
        return {"reached": reached, "legacy_lsn": int_to_lsn(target),
                "candidate_lsn": int_to_lsn(applied) if applied is not None else None,
                "waited_ms": round((time.perf_counter() - started) * 1000, 3),
                **({"poll_error": watch.last_error} if not reached and watch.last_error else {})}

    async def _fetch(self, upstream: Upstream, request: MirroredRequest, headers: list, timeout: float):
        """(snapshot, ms), an UpstreamFailure, or "too_large"; through the upstream's client and the
        shadow worker's own breaker for it."""
        started = time.perf_counter()
        try:
            status, raw_headers, body = await self.forwarder.fetch(
                upstream, request.method, request.scope, headers, request.body, timeout, self.max_body_bytes)
        except UpstreamFailure as failure:
            return failure
        except TooLarge:
            return "too_large"
        return ResponseSnapshot.from_raw(status, raw_headers, body), (time.perf_counter() - started) * 1000


def base_record(route: str, target: Optional[str], request_context: dict) -> dict:
    return {"type": "shadow", "ts": timestamp(), "route": route, "target": target, "request": request_context}


_second: list = [None, ""]  # the last whole second formatted, and its text


def timestamp() -> str:
    """Now in UTC as `datetime.isoformat(timespec="milliseconds")` writes it, the date and time
    formatted once a second (a datetime per record was a few percent of the worker's CPU)."""
    now = time.time()
    second = int(now)
    if _second[0] != second:
        _second[:] = second, datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_second[1]}.{int((now - second) * 1000):03d}+00:00"
