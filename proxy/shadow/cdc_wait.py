"""CDC-aware shadowing: before a mirror goes to a CDC-fed candidate, wait (bounded) until the
candidate has applied the monolith's changes up to the WAL position legacy's answer reflects.

Legacy's answer carries that position (`X-Vobe-Wal-Lsn`, the monolith's WalPositionMiddleware:
`pg_current_wal_lsn()` read after the view's work; the proxy asked for it with
`X-Vobe-Want-Wal-Lsn: 1` and strips it before the client sees the answer). The candidate publishes
its applied position in `GET {cdc.status_path}?position=true&position_target=L` (the carve kit's
/internal/sync-status, X-Internal-Token from INTERNAL_API_TOKEN; `position_target`, the highest
position a mirror waits for, lets a quiet candidate nudge the CDC heartbeat):

    {"position": {"lsn_int": 23456, "lsn": "0/5BA0", "tables": {"catalog_track": 23456, ...}}}

`tables[t] = P` means every change to monolith table `t` with an LSN below P is applied (the rule
and why it holds: services/common/carve/position.py). A mirror with legacy position L for a route
reading tables T may be compared once min(tables[t] for t in T) >= L (T: the route's
`shadow.cdc_tables`, else the candidate's overall `lsn_int`). Positions only grow, so the last one
seen settles every mirror at or below it without a request; for the rest one poller per candidate
asks every `cdc.poll_interval` seconds while any mirror waits, and one answer settles every waiter
it covers. A mirror not settled within its wait (`shadow.cdc_wait`, else the upstream's
`cdc.wait`, default 2 s) is recorded `lagging`, not compared: replica lag is not a mismatch.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Optional

import re

import orjson

log = logging.getLogger("proxy.shadow.cdc")

# (the highest position a mirror waits for) -> the candidate's position document:
# {"lsn_int": int, "tables": {table: int}}
PositionSource = Callable[[int], Awaitable[dict]]


_PG_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


def lsn_to_int(lsn: str) -> int:
    """pg_lsn text -> integer, as cdc/lsn.py (not imported: the proxy's image carries only proxy/)."""
    match = _PG_LSN.fullmatch(lsn.strip())
    if match is None:
        raise ValueError(f"not a pg_lsn: {lsn!r}")
    return (int(match[1], 16) << 32) | int(match[2], 16)


def int_to_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def legacy_lsn(headers) -> Optional[int]:
    """The WAL position in legacy's (raw) response headers, as an integer; None if absent or bad."""
    for name, value in headers:
        if name.lower() == b"x-vobe-wal-lsn":
            try:
                return lsn_to_int(value.decode("latin-1").strip())
            except (ValueError, UnicodeDecodeError):
                return None
    return None


def covered(position: Optional[dict], target: int, tables: Optional[tuple[str, ...]]) -> bool:
    """Has a candidate at `position` applied every change the route's tables had before `target`?
    A table the candidate does not report is not covered (unknown is never caught up)."""
    if not position:
        return False
    if tables is None:
        applied = position.get("lsn_int")
        return applied is not None and applied >= target
    reported = position.get("tables") or {}
    return all(reported.get(table) is not None and reported[table] >= target for table in tables)


def route_position(position: Optional[dict], tables: Optional[tuple[str, ...]]) -> Optional[int]:
    if not position:
        return None
    if tables is None:
        return position.get("lsn_int")
    values = [(position.get("tables") or {}).get(t) for t in tables]
    return None if any(v is None for v in values) else min(values)


@dataclass
class _Waiter:
    target: int
    tables: Optional[tuple[str, ...]]
    future: asyncio.Future


@dataclass
class PositionWatch:
    """The applied position of one candidate, polled only while mirrors wait for it."""

    source: PositionSource
    poll_interval: float = 0.1
    position: Optional[dict] = None
    fetched_at: float = 0.0
    last_error: Optional[str] = None
    polls: int = 0
    _waiters: list = field(default_factory=list)
    _poller: Optional[asyncio.Task] = None

    async def wait(self, target: int, tables: Optional[tuple[str, ...]], timeout: float) -> bool:
        """True once the candidate covers `target` for `tables`; False after `timeout` seconds."""
        if covered(self.position, target, tables):
            return True
        if timeout <= 0:
            return False
        future = asyncio.get_running_loop().create_future()
        waiter = _Waiter(target, tables, future)
        self._waiters.append(waiter)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def _poll(self) -> None:
        while self._waiters:
            started = time.monotonic()
            try:
                position = await self.source(max(w.target for w in self._waiters))
            except Exception as exc:  # keep waiting: the mirrors' own deadlines decide
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            else:
                self.polls += 1
                self.last_error = None
                if self.position is None or (position.get("lsn_int") or 0) >= (self.position.get("lsn_int") or 0):
                    self.position, self.fetched_at = position, time.monotonic()
                for waiter in list(self._waiters):
                    if covered(self.position, waiter.target, waiter.tables) and not waiter.future.done():
                        waiter.future.set_result(True)
                        self._waiters.remove(waiter)
            if self._waiters:
                await asyncio.sleep(max(0.0, self.poll_interval - (time.monotonic() - started)))


def parse_position(status: int, body: bytes) -> dict:
    """The `position` of a sync-status answer, or ValueError saying why there is none."""
    if status != 200:
        raise ValueError(f"sync-status answered HTTP {status}: {body[:200]!r}")
    document = orjson.loads(body)
    position = document.get("position") if isinstance(document, dict) else None
    if not isinstance(position, dict) or not isinstance(position.get("lsn_int"), int):
        raise ValueError("sync-status has no position (lsn_int)")
    return position


def internal_token() -> str:
    from proxy.routing.handover import internal_api_token  # INTERNAL_API_TOKEN, else the stack's default

    return internal_api_token()


class CdcWaits:
    """One PositionWatch per CDC-fed upstream of the shadow worker, fetched with its own client."""

    def __init__(self, token: Optional[str] = None):
        self.token = (internal_token() if token is None else token).encode("latin-1")
        self.watches: dict[str, tuple[object, PositionWatch]] = {}

    def watch(self, upstream) -> PositionWatch:
        spec = upstream.spec.cdc
        known = self.watches.get(upstream.name)
        if known is None or known[0] is not upstream:  # a new table may have replaced the upstream
            known = self.watches[upstream.name] = (upstream, PositionWatch(_UpstreamPosition(upstream, self.token).fetch))
        known[1].poll_interval = spec.poll_interval
        return known[1]

    def status(self) -> dict:
        return {name: {"position": w.position.get("lsn") if w.position else None, "polls": w.polls,
                       "error": w.last_error, "waiting": len(w._waiters)} for name, (_, w) in self.watches.items()}


class _UpstreamPosition:
    def __init__(self, upstream, token: bytes):
        self.upstream = upstream
        self.token = token
        self.target = upstream.spec.cdc.status_path + "?position=true&position_target="

    async def fetch(self, target: int) -> dict:
        path = (self.target + str(target)).encode("latin-1")
        response = await self.upstream.client.open("GET", path, [(b"X-Internal-Token", self.token),
                                                                         (b"Accept", b"application/json")],
                                                   None, 5.0)
        try:
            body = await response.read(1 << 20)
        finally:
            response.release()
        return parse_position(response.status, body)


def snapshot_lsn(snapshot) -> Optional[int]:
    """The WAL position in a ResponseSnapshot's headers (lower-cased str pairs)."""
    value = snapshot.header("x-vobe-wal-lsn")
    if value is None:
        return None
    try:
        return lsn_to_int(value)
    except ValueError:
        return None


async def _fetch_url(url: str, token: str) -> dict:
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        async with session.get(url, headers={"X-Internal-Token": token, "Accept": "application/json"}) as response:
            return parse_position(response.status, await response.read())


class CandidateWait:
    """The same wait outside the shadow worker, by URL: `proxy.cli replay`'s hook
    (ReplayOptions.wait_for_candidate) and the parity suite. One PositionWatch per candidate URL.

        wait = CandidateWait(wait=2.0)
        reason = await wait(legacy_snapshot, "http://127.0.0.1:8101")   # None: compare now
    """

    def __init__(self, wait: float = 2.0, tables: Optional[tuple[str, ...]] = None, poll_interval: float = 0.1,
                 status_path: str = "/internal/sync-status", token: Optional[str] = None):
        self.wait, self.tables, self.poll_interval = wait, tables, poll_interval
        self.status_path = status_path
        self.token = internal_token() if token is None else token
        self.watches: dict[str, PositionWatch] = {}

    def watch(self, candidate_url: str) -> PositionWatch:
        watch = self.watches.get(candidate_url)
        if watch is None:
            url = candidate_url.rstrip("/") + self.status_path + "?position=true&position_target="

            async def source(target: int) -> dict:
                return await _fetch_url(url + str(target), self.token)
            watch = self.watches[candidate_url] = PositionWatch(source, self.poll_interval)
        return watch

    async def until(self, target: Optional[int], candidate_url: str) -> Optional[str]:
        """None once the candidate covers `target` (or there is no target); else why not."""
        if target is None:
            return None
        watch = self.watch(candidate_url)
        if await watch.wait(target, self.tables, self.wait):
            return None
        applied = route_position(watch.position, self.tables)
        return (f"candidate at {int_to_lsn(applied) if applied is not None else 'unknown'} had not applied "
                f"legacy's {int_to_lsn(target)} after {self.wait:g} s"
                + (f" ({watch.last_error})" if watch.last_error else ""))

    async def __call__(self, legacy_snapshot, candidate_url: str) -> Optional[str]:
        return await self.until(snapshot_lsn(legacy_snapshot), candidate_url)
