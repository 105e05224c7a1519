"""Replaying a recorded corpus against legacy and a candidate, compared under the route's profile
with the same engine and report as shadow mode (`python -m proxy.cli replay`).

Reads are replayed as recorded. Writes (anything but GET/HEAD/OPTIONS) are skipped unless
`allow_writes` is set: they really write, on both sides, so point that only at throwaway copies.
Token placeholders in `Authorization` (`Bearer <token:...>`, see proxy/corpus/scrub.py) are
replaced by the token given (`--token` / `PROXY_REPLAY_TOKEN`); without one the header is dropped,
and the request is replayed anonymously (the record says so).

CDC: a candidate fed by CDC may not have applied what legacy's answer reflects yet. Before calling
the candidate, `ReplayOptions.wait_for_candidate(legacy_snapshot, candidate_url)` is awaited when
set (legacy is then asked for `X-Vobe-Wal-Lsn`); it returns None to go on, or a reason, recorded
as `skipped: lagging: ...`. `proxy.cli replay` sets it to the shadow worker's wait,
`proxy.shadow.cdc_wait.CandidateWait`, as the route table configures it for the route's target
(`--cdc-wait 0`: none; the candidate is then asked right after legacy, which is exact against
static copies, as in CI)."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Optional
from urllib.parse import quote

import aiohttp
import orjson
from yarl import URL

from proxy.compare import CompareProfile, ResponseSnapshot, ShadowReport, candidate_failed, compare_responses
from proxy.corpus.scrub import TOKEN_PLACEHOLDER

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
REPLAY_HEADER = ("X-Vobe-Replay", "1")
# Asks the monolith for the WAL position its answer reflects (X-Vobe-Wal-Lsn), sent to legacy only
# when a CDC wait is set: what the wait compares the candidate's applied position with.
WANT_WAL_LSN = ("X-Vobe-Want-Wal-Lsn", "1")

WaitHook = Callable[[ResponseSnapshot, str], Awaitable[Optional[str]]]  # returns None, or why it gave up


@dataclass
class ReplayOptions:
    route: str
    legacy: str
    candidate: str
    profile: CompareProfile
    token: Optional[str] = None
    allow_writes: bool = False
    timeout: float = 30.0
    concurrency: int = 4
    noise: bool = False  # also ask legacy twice, so the report can tell noise apart
    wait_for_candidate: Optional[WaitHook] = None


@dataclass
class ReplayResult:
    report: ShadowReport
    route: str
    entries: int = 0
    replayed: int = 0
    compared: int = 0
    skipped_writes: int = 0
    status_drift: list = field(default_factory=list)  # legacy answers now with another status than recorded
    records: list = field(default_factory=list)

    def summary(self) -> dict:
        return {"route": self.route, "entries": self.entries, "replayed": self.replayed, "compared": self.compared,
                "skipped_writes": self.skipped_writes, "status_drift": len(self.status_drift),
                "status_drift_examples": self.status_drift[:10]}

    def to_dict(self, top: int = 10) -> dict:
        return {"replay": self.summary(), **self.report.to_dict(self.route, top=top)}


def request_of(entry: dict, token: Optional[str]) -> tuple[str, str, list[tuple[str, str]], Optional[bytes], bool]:
    """(method, target, headers, body, anonymous) of one corpus line, placeholders swapped."""
    target = quote(entry["path"], safe="/%:@!$&'()*+,;=-._~")
    if entry.get("query"):
        target += "?" + entry["query"]
    headers: list[tuple[str, str]] = []
    anonymous = False
    for name, value in (entry.get("headers") or {}).items():
        if name == "authorization" and TOKEN_PLACEHOLDER.search(value):
            if not token:
                anonymous = True
                continue
            value = TOKEN_PLACEHOLDER.sub(token, value)
        headers.append((name, value))
    body: Optional[bytes] = None
    if entry.get("body_format") == "json":
        body = orjson.dumps(entry["body"])
    elif entry.get("body_format") in ("form", "text"):
        body = entry["body"].encode()
    return entry["method"], target, headers, body, anonymous


async def replay(entries: Iterable[dict], options: ReplayOptions) -> ReplayResult:
    result = ReplayResult(ShadowReport(), options.route)
    selected = [e for e in entries if e.get("route") == options.route]
    result.entries = len(selected)
    semaphore = asyncio.Semaphore(max(1, options.concurrency))
    connector = aiohttp.TCPConnector(limit=max(2, options.concurrency * 2))
    timeout = aiohttp.ClientTimeout(total=options.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False,
                                     skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent")) as session:
        async def one(index: int, entry: dict) -> None:
            async with semaphore:
                record = await _replay_one(session, entry, options, result)
            if record is not None:
                record["seq"] = index
                result.records.append(record)

        await asyncio.gather(*(one(i, e) for i, e in enumerate(selected)))
    result.records.sort(key=lambda r: r["seq"])
    for record in result.records:  # in corpus order, so noise observations come before verdicts alike
        result.report.add(record)
    return result


async def _replay_one(session: aiohttp.ClientSession, entry: dict, options: ReplayOptions,
                      result: ReplayResult) -> Optional[dict]:
    method, target, headers, body, anonymous = request_of(entry, options.token)
    context = {"method": method, "path": entry["path"], "query": entry.get("query", ""),
               "request_id": entry.get("request_id"), "recorded_status": entry.get("status"),
               "anonymous": anonymous}
    record: dict[str, Any] = {"type": "shadow", "route": options.route, "target": options.candidate,
                              "request": context}
    if method not in SAFE and not options.allow_writes:
        result.skipped_writes += 1
        return record | {"result": "skipped", "error": "write not replayed (no --allow-writes)"}
    if entry.get("body_format") == "omitted" and method not in SAFE:
        return record | {"result": "skipped", "error": f"body not recorded: {entry.get('body_omitted')}"}
    headers = [*headers, REPLAY_HEADER]
    result.replayed += 1
    legacy_headers = [*headers, WANT_WAL_LSN] if options.wait_for_candidate is not None else headers
    legacy = await _fetch(session, options.legacy, method, target, legacy_headers, body)
    if isinstance(legacy, str):
        return record | {"result": "error", "error": f"legacy: {legacy}"}
    if entry.get("status") and legacy[0].status != entry["status"] and entry.get("answered_by") in (None, "legacy"):
        result.status_drift.append({"method": method, "target": target, "recorded": entry["status"],
                                    "now": legacy[0].status})
    record["legacy"] = {"status": legacy[0].status, "ms": legacy[1], "bytes": len(legacy[0].body)}
    if options.wait_for_candidate is not None:
        gave_up = await options.wait_for_candidate(legacy[0], options.candidate)
        if gave_up:
            return record | {"result": "skipped", "error": f"lagging: {gave_up}"}
    candidate = await _fetch(session, options.candidate, method, target, headers, body)
    if isinstance(candidate, str):
        return record | {"result": "timeout" if candidate.startswith("timeout") else "error",
                         "error": f"candidate: {candidate}"}
    record["candidate"] = {"status": candidate[0].status, "ms": candidate[1], "bytes": len(candidate[0].body)}
    query = entry.get("query", "")
    comparison = compare_responses(legacy[0], candidate[0], options.profile, query)
    record["differences"] = [d.to_dict() for d in comparison.differences]
    record["checks"] = comparison.checks
    if candidate_failed(legacy[0].status, candidate[0].status):
        # as in shadow mode: an errored answer, counted apart from mismatches
        record.update(result="error", error=f"candidate answered {candidate[0].status} where legacy answered "
                                            f"{legacy[0].status}")
    else:
        record["result"] = "match" if comparison.matched else "mismatch"
    result.compared += 1
    if options.noise and method in SAFE:
        again = await _fetch(session, options.legacy, method, target, headers, body)
        if not isinstance(again, str):
            noise = compare_responses(legacy[0], again[0], options.profile, query)
            result.records.append({"type": "noise", "route": options.route, "request": context, "seq": -1,
                                   "differences": [d.to_dict() for d in noise.differences]})
    return record


async def _fetch(session: aiohttp.ClientSession, base: str, method: str, target: str, headers, body):
    """(snapshot, ms), or a string saying what failed."""
    started = time.perf_counter()
    try:
        async with session.request(method, URL(base.rstrip("/") + target, encoded=True), headers=headers,
                                   data=body, allow_redirects=False) as response:
            payload = await response.read()
            raw = [(k, v) for k, v in response.raw_headers]
            snapshot = ResponseSnapshot.from_raw(response.status, raw, payload)
    except asyncio.TimeoutError:
        return "timeout"
    except aiohttp.ClientError as exc:
        return f"{type(exc).__name__}: {exc}"
    return snapshot, round((time.perf_counter() - started) * 1000, 3)
