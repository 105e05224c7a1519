"""Keeps the live route table in step with its file: on change (file watcher), on SIGHUP, on an
admin flip. A new table goes live in one reference swap, so each request sees the old table or the
new one, never a mix; an invalid file leaves the live table as it was and says why.

Every serving process runs one of these on the same file. Each publishes the table it serves (its
sha256) in the run's worker state directory, so a flip made through one process signals the
others (SIGHUP) and returns once all of them serve the new table. An admin question first checks
the file's identity (one stat), so whichever process answers, it answers about the current file."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from pathlib import Path
from typing import Awaitable, Callable, Optional

from watchfiles import awatch

from proxy.metrics import ProxyMetrics
from proxy.routing.audit_log import AuditLog, file_editor
from proxy.routing.file import locked
from proxy.routing.handover import MONOLITH, Flip, flip_route, hand_back
from proxy.routing.table import RouteTable, RouteTableError, load_route_table

log = logging.getLogger("proxy.route_table")
FLIP_PROPAGATION_TIMEOUT = 10.0  # seconds a flip waits for every serving process to apply it


class TableReloader:
    def __init__(self, path: Path, audit: AuditLog, metrics: ProxyMetrics,
                 before_swap: Callable[[RouteTable], Awaitable[None]], state_dir: Optional[Path] = None):
        self.path = Path(path).resolve()
        self.audit = audit
        self.metrics = metrics
        self.before_swap = before_swap
        self.state_dir = state_dir
        self.table: Optional[RouteTable] = None
        self.last_error: Optional[str] = None
        self.last_error_at: Optional[float] = None
        self._seen: Optional[tuple] = None  # identity of the file version last read
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._watch_task: Optional[asyncio.Task] = None
        self._watching = False

    def _identity(self) -> Optional[tuple]:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    async def load_initial(self) -> RouteTable:
        """The first table; without a valid file the proxy does not start (nothing to keep). The
        supervisor audits the table loaded at start, once for all serving processes."""
        self._seen = self._identity()
        table = load_route_table(self.path)
        await self.before_swap(table)
        self.table = table
        self.metrics.publish_table(table)
        log.info("route table loaded", extra={"file": str(self.path), "sha256": table.sha256,
                                              "routes": {r.name: r.mode.value for r in table.routes}})
        return table

    async def reload(self, source: str, who: Optional[str] = None) -> tuple[bool, str]:
        """Re-read the file; returns (applied_or_unchanged, message)."""
        async with self._lock:
            self._seen = self._identity()
            try:
                table = await asyncio.to_thread(load_route_table, self.path)
            except RouteTableError as exc:
                self.last_error, self.last_error_at = str(exc), time.time()
                self.metrics.reloads.labels("invalid").inc()
                log.error("route table rejected; keeping the previous one",
                          extra={"source": source, "error": str(exc), "file": str(self.path)})
                return False, str(exc)
            old = self.table
            self.last_error = None
            if old is not None and table.sha256 == old.sha256:
                self.metrics.reloads.labels("unchanged").inc()
                return True, "unchanged"
            await self.before_swap(table)
            # Audited before it serves: whoever sees the new table can read its entry.
            entry = await asyncio.to_thread(self._audit_found, who or file_editor(self.path), source, old, table)
            self.table = table
            self.metrics.reloads.labels("applied").inc()
            self.metrics.publish_table(table)
            await asyncio.to_thread(self._publish_state)
            log.warning("route table applied", extra={"source": source, "sha256": table.sha256,
                                                      "audited_here": entry is not None,
                                                      "changes": entry["changes"] if entry else None})
            return True, "applied"

    async def ensure_current(self) -> None:
        """Reload now if the file is not the version last read (before answering about the table).
        A change found here is applied in every serving process before the answer, so what the
        answer says is what every process serves. With watching off the file is read on SIGHUP
        and flips only, and so here too."""
        if not self._watching:
            return
        async with self._lock:  # a reload under way (watcher, SIGHUP) finishes first
            pass
        if self._identity() != self._seen:
            _, message = await self.reload("file-watch")
            if message == "applied":
                await self.propagate(self.table.sha256)
                return
        # Our watcher may have seen the change before a sibling's did: catch them up too.
        if self.table is not None and await asyncio.to_thread(self._siblings_behind, self.table.sha256):
            await self.propagate(self.table.sha256)

    def _siblings_behind(self, sha256: str) -> bool:
        for state in self._siblings().values():
            try:
                if state.read_text() != sha256:
                    return True
            except FileNotFoundError:  # stopped meanwhile
                continue
        return False

    async def flip(self, name: str, mode: str, percent: Optional[float], who: str) -> tuple[Flip, dict]:
        """Change one route's mode in the file (routing/handover.py: the write-ownership handover
        where the route needs one, audited by us under the file's lock), apply it here, then in
        every other serving process; returns (flip, propagation). A flip back to the monolith
        gives the service's write ownership up only once every process serves the new table
        (HandbackFailed if the service does not confirm)."""
        flip = await asyncio.to_thread(flip_route, self.path, name, mode, percent, who, "admin-api", self.audit)
        ok, message = await self.reload("admin-api", who=who)
        if not ok:  # the file changed again between our write and read
            raise RouteTableError(message)
        propagation = await self.propagate(self.table.sha256)
        if flip.handover == MONOLITH:
            await asyncio.to_thread(hand_back, flip, self.audit)
        return flip, propagation

    # -- serving processes ----------------------------------------------------------------------------

    def _audit_found(self, who: str, source: str, old: Optional[RouteTable], new: RouteTable) -> Optional[dict]:
        with locked(self.path, shared=True):  # an editor holding the lock writes its own entry first
            try:
                current = self.path.read_text(encoding="utf-8")
            except OSError:
                current = None
            return self.audit.record_once(who, source, old, new, current)

    def _publish_state(self) -> None:
        if self.state_dir is None or self.table is None:
            return
        own = self.state_dir / str(os.getpid())
        staging = own.with_name(own.name + ".tmp")
        staging.write_text(self.table.sha256)
        staging.replace(own)

    def serving_processes(self) -> int:
        """Serving processes that serve a table now (this one included)."""
        if self.state_dir is None:
            return 1
        return sum(1 for p in self.state_dir.iterdir() if p.name.isdigit())

    def _siblings(self) -> dict[int, Path]:
        if self.state_dir is None:
            return {}
        return {int(p.name): p for p in self.state_dir.iterdir()
                if p.name.isdigit() and int(p.name) != os.getpid()}

    async def propagate(self, sha256: str, timeout: float = FLIP_PROPAGATION_TIMEOUT) -> dict:
        """SIGHUP every other serving process and wait until each serves `sha256`."""
        waiting = {}
        for pid, state in self._siblings().items():
            try:
                os.kill(pid, signal.SIGHUP)
                waiting[pid] = state
            except ProcessLookupError:  # exited; the supervisor removes its state file
                continue
        deadline = time.monotonic() + timeout
        applied = {os.getpid()}
        while True:
            for pid, state in list(waiting.items()):
                try:
                    current = state.read_text()
                except FileNotFoundError:  # stopped meanwhile
                    waiting.pop(pid)
                    continue
                if current == sha256:
                    applied.add(pid)
                    waiting.pop(pid)
            if not waiting or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.01)
        if waiting:
            log.error("flip not applied by every serving process in time", extra={"pending": sorted(waiting)})
        return {"applied": len(applied), "pending": sorted(waiting)}

    def start(self, watch: bool) -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload("sighup")))
        except (NotImplementedError, RuntimeError):  # not the main thread (embedded in tests)
            pass
        # Only now (SIGHUP handled) may a flip in another process count on us; catch up with a
        # flip made between our first load and this point.
        self._watching = watch
        self._publish_state()
        self._catch_up = asyncio.create_task(self.ensure_current())
        if watch:
            self._watch_task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        # Watch the directory: editors and our own atomic writes replace the file (new inode).
        name = self.path.name
        while not self._stop.is_set():
            try:
                async for _changes in awatch(self.path.parent, stop_event=self._stop, debounce=200, step=50,
                                             watch_filter=lambda _change, changed: Path(changed).name == name,
                                             recursive=False):
                    await self.reload("file-watch")
            except Exception:
                log.exception("route table watcher failed; restarting it")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        self._stop.set()
        if self._watch_task:
            self._watch_task.cancel()
        try:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
        if self.state_dir is not None:
            (self.state_dir / str(os.getpid())).unlink(missing_ok=True)
