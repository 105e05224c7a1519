"""The serving process's side of shadow mode: decide whether a request is mirrored, and hand the
finished exchange to the shadow worker process (proxy/shadow_worker.py) without waiting for it.

Handing over costs one pickle and one socket write after the client's response is complete. The
queue towards the worker is bounded: when the worker falls behind (its queue full, the socket
buffer full, then `shadow_backlog_bytes` unsent here) new mirrors are dropped and counted as
`overloaded`; clients are never slowed down. If the worker dies it is started again."""
from __future__ import annotations

import asyncio
import itertools
import logging
import random
import socket
import sys
from typing import Optional

from proxy import frames
from proxy.metrics import ProxyMetrics
from proxy.route_table import Route, RouteTable
from proxy.settings import ProxySettings
from proxy.shadow import MirroredRequest

log = logging.getLogger("proxy.shadow")
_WORKER_SETTINGS = {"data_dir", "shadow_log", "noise_min_hits", "compare_workers", "shadow_max_inflight",
                    "shadow_queue", "shadow_nice", "shadow_max_body_bytes", "health_interval", "log_level"}


class ShadowUnavailable(Exception):
    """The shadow worker cannot answer right now (starting again after a crash, or stopping)."""


class ShadowLink:
    def __init__(self, settings: ProxySettings, metrics: ProxyMetrics):
        self.settings = settings
        self.metrics = metrics
        self.process: Optional[asyncio.subprocess.Process] = None
        self._data: Optional[asyncio.StreamWriter] = None
        self._control: Optional[asyncio.StreamWriter] = None
        self._answers: dict[int, asyncio.Future] = {}
        self._ids = itertools.count()
        self._table: Optional[RouteTable] = None
        self._closing = False
        self._records_start: Optional[int] = None  # where this run's records begin in the record file
        self._tasks: set[asyncio.Task] = set()
        self._pending: list[bytes] = []  # frames of this event-loop step, written in one go at its end

    # -- serving path ------------------------------------------------------------------------------

    def admit(self, route: Route) -> bool:
        """Whether this request is mirrored: the route's sample, and room towards the worker."""
        sample = route.spec.shadow.sample
        if sample < 1.0 and random.random() >= sample:
            self.metrics.shadow_dropped.labels(route.name, "sampled_out").inc()
            return False
        data = self._data
        if data is None or data.is_closing():
            self.metrics.shadow_dropped.labels(route.name, "worker_down").inc()
            return False
        if data.transport.get_write_buffer_size() > self.settings.shadow_backlog_bytes:
            self.metrics.shadow_dropped.labels(route.name, "overloaded").inc()
            return False
        return True

    def submit(self, request: MirroredRequest) -> None:
        self._send(request.as_frame())

    def skip(self, route: Route, request_context: dict, reason: str) -> None:
        self._send(("skip", route.name, route.spec.target, request_context, reason))

    def publish_table(self, table: RouteTable) -> None:
        """Called before a table goes live, so the worker knows every route a mirror can name."""
        self._table = table
        self._send(("table", table.text, table.source))

    def _send(self, message) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(frames.encode(message))

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        data = self._data
        if data is not None and not data.is_closing():
            data.write(b"".join(pending))

    # -- admin questions ----------------------------------------------------------------------------

    async def ask(self, op: str, timeout: float = 10.0, **kwargs):
        control = self._control
        if control is None or control.is_closing():
            raise ShadowUnavailable("the shadow worker is not running")
        ask_id = next(self._ids)
        answer = self._answers[ask_id] = asyncio.get_running_loop().create_future()
        try:
            control.write(frames.encode((ask_id, op, kwargs)))
            result, error = await asyncio.wait_for(answer, timeout)
        except asyncio.TimeoutError:
            raise ShadowUnavailable("the shadow worker did not answer in time") from None
        finally:
            self._answers.pop(ask_id, None)
        if error:
            raise ShadowUnavailable(f"the shadow worker failed to answer: {error}")
        return result

    # -- process lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        data_here, data_there = socket.socketpair()
        control_here, control_there = socket.socketpair()
        settings_json = self.settings.model_dump_json(include=_WORKER_SETTINGS)
        replay = []
        if self._records_start is None:
            path = self.settings.shadow_log_path
            self._records_start = path.stat().st_size if path.exists() else 0
        else:  # started again after a crash: rebuild the report from this run's records
            replay = [str(self._records_start)]
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "proxy.shadow_worker", str(data_there.fileno()), str(control_there.fileno()),
                settings_json, *replay, pass_fds=(data_there.fileno(), control_there.fileno()),
                stdin=asyncio.subprocess.DEVNULL)
        finally:
            data_there.close()
            control_there.close()
        self._pending = []  # frames for the dead worker; the table is sent again below
        _, self._data = await asyncio.open_unix_connection(sock=data_here)
        control_in, self._control = await asyncio.open_unix_connection(sock=control_here)
        if self._table is not None:
            self.publish_table(self._table)
        self._spawn(self._read_answers(control_in))
        self._spawn(self._watch(self.process))

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_answers(self, reader: asyncio.StreamReader) -> None:
        while (message := await frames.read(reader)) is not None:
            ask_id, result, error = message
            answer = self._answers.get(ask_id)
            if answer is not None and not answer.done():
                answer.set_result((result, error))

    async def _watch(self, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        for writer in (self._data, self._control):
            if writer is not None:
                writer.close()
        for answer in self._answers.values():
            if not answer.done():
                answer.set_result((None, "the shadow worker stopped"))
        if self._closing:
            return
        log.error("shadow worker exited; starting it again", extra={"exit_code": code})
        self.metrics.shadow_worker_restarts.inc()
        await asyncio.sleep(1.0)
        if not self._closing:
            await self.start()

    async def close(self, timeout: float = 15.0) -> None:
        """Let the worker finish what is queued, then stop it."""
        self._closing = True
        self._flush()
        if self._data is not None:
            try:
                await asyncio.wait_for(self._data.drain(), timeout)
            except (asyncio.TimeoutError, ConnectionError):
                pass
            self._data.close()
        if self.process is not None and self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
        for task in list(self._tasks):
            task.cancel()
