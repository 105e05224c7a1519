"""The shadow worker: a child process of the proxy that does all shadow work, so mirroring and
comparing never compete with clients for the serving event loop.

    python -m proxy.shadow_worker DATA_FD CONTROL_FD SETTINGS_JSON [REPLAY_FROM]   (started by proxy/shadow_link.py)

DATA_FD carries, in order: route tables (`("table", text, source)`), mirrored requests and skips.
Mirrored requests wait in a bounded queue served by `shadow_max_inflight` tasks; when the queue is
full the worker stops reading, the proxy sees its backlog grow and drops new mirrors (counted).
CONTROL_FD answers the proxy's questions (report, records, metrics). End of DATA_FD or SIGTERM:
finish what is queued (a few seconds at most), flush the record file, exit. A worker started again
after a crash first replays this proxy run's records (the file from byte REPLAY_FROM), so the live
report does not lose what was already compared."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Optional

import orjson
import uvloop
from prometheus_client import generate_latest

from proxy import frames, json_logging
from proxy.comparison_pool import ComparisonPool
from proxy.forwarding import Forwarder
from proxy.metrics import ShadowMetrics
from proxy.route_table import RouteTable, RouteTableError, parse_route_table
from proxy.settings import ProxySettings
from proxy.shadow import MirroredRequest, ShadowRunner
from proxy.shadow_recorder import ShadowRecorder
from proxy.upstreams import UpstreamPool

log = logging.getLogger("proxy.shadow")
DRAIN_SECONDS = 5.0


class ShadowWorker:
    def __init__(self, settings: ProxySettings, replay_from: Optional[int] = None):
        self.settings = settings
        self.metrics = ShadowMetrics()
        history = this_run_records(settings.shadow_log_path, replay_from) if replay_from is not None else []
        self.recorder = ShadowRecorder(settings.shadow_log_path, self.metrics, settings.noise_min_hits, history=history)
        if history:
            log.warning("shadow worker started again; this run's records replayed", extra={"records": len(history)})
        self.comparisons = ComparisonPool(settings.compare_workers)
        self.upstreams = UpstreamPool(self.metrics, settings.health_interval)
        self.runner = ShadowRunner(Forwarder(self.metrics), self.comparisons, self.recorder,
                                   settings.shadow_max_body_bytes)
        self.queue: asyncio.Queue = asyncio.Queue(settings.shadow_queue)
        self.table: Optional[RouteTable] = None
        self.inflight = 0

    async def serve(self, data_fd: int, control_fd: int) -> None:
        data, _ = await asyncio.open_unix_connection(sock=socket.socket(fileno=data_fd))
        control_in, control_out = await asyncio.open_unix_connection(sock=socket.socket(fileno=control_fd))
        consumers = [asyncio.create_task(self._consume()) for _ in range(max(1, self.settings.shadow_max_inflight))]
        answering = asyncio.create_task(self._answer(control_in, control_out))
        reading = asyncio.create_task(self._read(data))
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, reading.cancel)
        # Ctrl-C reaches the whole process group: the proxy closes our input when it stops, then we drain.
        loop.add_signal_handler(signal.SIGINT, lambda: None)
        try:
            await reading
        except asyncio.CancelledError:
            pass
        try:
            await asyncio.wait_for(self.queue.join(), DRAIN_SECONDS)
        except asyncio.TimeoutError:
            log.warning("shadow work left unfinished at exit", extra={"queued": self.queue.qsize()})
        for task in (*consumers, answering):
            task.cancel()
        await self.upstreams.close()
        self.comparisons.close()
        self.recorder.close()

    async def _read(self, data: asyncio.StreamReader) -> None:
        while (message := await frames.read(data)) is not None:
            kind = message[0]
            if kind == "mirror":
                await self.queue.put(message)  # full: stop reading, the proxy drops instead of queueing more
                self.metrics.shadow_queued.set(self.queue.qsize())
            elif kind == "table":
                _, text, source = message
                try:  # the proxy validated this text already; keep the last table if it differs here
                    table = parse_route_table(text, source)
                except RouteTableError as exc:
                    log.error("shadow worker cannot use the route table", extra={"error": str(exc)})
                    continue
                await self.upstreams.sync(table)
                self.table = table
            elif kind == "skip":
                _, route, target, context, reason = message
                self.runner.skip(route, target, context, reason)

    async def _consume(self) -> None:
        while True:
            message = await self.queue.get()
            self.metrics.shadow_queued.set(self.queue.qsize())
            self.inflight += 1
            self.metrics.shadow_inflight.set(self.inflight)
            try:
                await self._exchange(MirroredRequest.from_frame(message))
            except Exception:
                log.exception("shadow exchange crashed")
            finally:
                self.inflight -= 1
                self.metrics.shadow_inflight.set(self.inflight)
                self.queue.task_done()

    async def _exchange(self, request: MirroredRequest) -> None:
        table = self.table
        route = table.route(request.route) if table else None
        if route is None or route.spec.target not in table.upstreams:
            self.runner.skip(request.route, None, request.context(), "route no longer in the route table")
            return
        await self.runner.run(request, route, self.upstreams[route.spec.target], self.upstreams[table.legacy])

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (message := await frames.read(reader)) is not None:
            ask_id, op, kwargs = message
            try:
                writer.write(frames.encode((ask_id, self._question(op, kwargs), None)))
            except Exception as exc:  # a bad question must not stop the answering
                log.exception("shadow worker could not answer", extra={"op": op})
                writer.write(frames.encode((ask_id, None, f"{type(exc).__name__}: {exc}")))
            await writer.drain()

    def _question(self, op: str, kwargs: dict):
        if op == "report":
            return self.recorder.report.to_dict(kwargs.get("route"), top=kwargs.get("top", 10))
        if op == "records":
            return self.recorder.records(kwargs.get("route"), kwargs.get("result"), kwargs.get("limit", 50))
        if op == "metrics":
            return generate_latest(self.metrics.registry)
        if op == "status":
            return {"queued": self.queue.qsize(), "inflight": self.inflight,
                    "table": self.table.sha256 if self.table else None}
        raise ValueError(f"unknown question {op!r}")


def this_run_records(path: Path, offset: int) -> list[dict]:
    """Records written since byte `offset` of the record file (the whole file if it rotated since)."""
    records = []
    try:
        with open(path, "rb") as handle:
            handle.seek(offset if handle.seek(0, os.SEEK_END) >= offset else 0)
            for line in handle:
                try:
                    records.append(orjson.loads(line))
                except orjson.JSONDecodeError:  # a line cut short by the crash
                    continue
    except FileNotFoundError:
        pass
    return records


def main() -> None:
    data_fd, control_fd, settings_json = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    replay_from = int(sys.argv[4]) if len(sys.argv) > 4 else None
    settings = ProxySettings.model_validate_json(settings_json)
    json_logging.configure(settings.log_level)
    # When CPU is short, clients come first: the serving process keeps its priority, this one yields
    # (and its bounded queue then makes the proxy drop mirrors rather than fall behind).
    os.nice(settings.shadow_nice)
    uvloop.run(ShadowWorker(settings, replay_from).serve(data_fd, control_fd))


if __name__ == "__main__":
    main()
