"""Keeps the live route table in step with its file: on change (file watcher), on SIGHUP, on an
admin flip. A new table goes live in one reference swap, so each request sees the old table or the
new one, never a mix; an invalid file leaves the live table as it was and says why."""
from __future__ import annotations

import asyncio
import logging
import signal
import time
from pathlib import Path
from typing import Awaitable, Callable, Optional

from watchfiles import awatch

from proxy.audit_log import AuditLog, current_actor, file_editor
from proxy.metrics import ProxyMetrics
from proxy.route_file import set_route_mode
from proxy.route_table import RouteTable, RouteTableError, load_route_table

log = logging.getLogger("proxy.route_table")


class TableReloader:
    def __init__(self, path: Path, audit: AuditLog, metrics: ProxyMetrics,
                 before_swap: Callable[[RouteTable], Awaitable[None]]):
        self.path = Path(path).resolve()
        self.audit = audit
        self.metrics = metrics
        self.before_swap = before_swap
        self.table: Optional[RouteTable] = None
        self.last_error: Optional[str] = None
        self.last_error_at: Optional[float] = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._watch_task: Optional[asyncio.Task] = None

    async def load_initial(self) -> RouteTable:
        """The first table; without a valid file the proxy does not start (nothing to keep)."""
        table = load_route_table(self.path)
        await self.before_swap(table)
        self.table = table
        self.metrics.publish_table(table)
        self.audit.record(current_actor(), "startup", None, table, changes=[], note="route table loaded at start")
        log.info("route table loaded", extra={"file": str(self.path), "sha256": table.sha256,
                                              "routes": {r.name: r.mode.value for r in table.routes}})
        return table

    async def reload(self, source: str, who: Optional[str] = None) -> tuple[bool, str]:
        """Re-read the file; returns (applied_or_unchanged, message)."""
        async with self._lock:
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
            self.table = table
            self.metrics.reloads.labels("applied").inc()
            self.metrics.publish_table(table)
            entry = self.audit.record(who or file_editor(self.path), source, old, table)
            log.warning("route table applied", extra={"source": source, "who": entry["who"],
                                                      "changes": entry["changes"], "sha256": table.sha256})
            return True, "applied"

    async def flip(self, name: str, mode: str, percent: Optional[float], who: str) -> tuple[RouteTable, RouteTable]:
        """Change one route's mode in the file and apply it now (not when the watcher notices)."""
        old, _ = await asyncio.to_thread(set_route_mode, self.path, name, mode, percent)
        ok, message = await self.reload("admin-api", who=who)
        if not ok:  # the file changed again between our write and read
            raise RouteTableError(message)
        return old, self.table

    def start(self, watch: bool) -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload("sighup")))
        except (NotImplementedError, RuntimeError):  # not the main thread (embedded in tests)
            pass
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
