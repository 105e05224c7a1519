"""The shadow worker: one process per proxy run, shared by all serving processes, that does all
shadow work, so mirroring and comparing never compete with clients for a serving event loop, and
the report, records and status are one view whichever serving process is asked.

    python -m proxy.shadow.worker SETTINGS_JSON [REPLAY_FROM]   (started by proxy/serving/supervisor.py)

It listens on two Unix sockets in the run directory (private to the proxy's user). Each serving
process keeps one connection to `shadow-data.sock` carrying, in order: its route tables
(`("table", text, source)`), mirrored requests and skips; a mirror is run under the table its
process served it with. Mirrored requests wait in one bounded queue served by
`shadow_max_inflight` tasks; when the queue is full the worker stops reading, the serving
processes see their backlog grow and drop new mirrors (counted). `shadow-control.sock` answers
questions (report, records, status), one connection each. SIGTERM: finish what is queued (a few
seconds at most), flush the record file, exit. A worker started again after a crash first replays
this proxy run's records (the file from byte REPLAY_FROM), so the live report does not lose what
was already compared. Its metrics reach /metrics through Prometheus' multiprocess files.
"""
from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Optional

import orjson
import uvloop

from proxy import json_logging
from proxy.metrics import ShadowMetrics
from proxy.routing.table import RouteTable, RouteTableError, parse_route_table
from proxy.serving.forwarding import Forwarder
from proxy.settings import ProxySettings
from proxy.shadow import frames
from proxy.shadow.comparison_pool import ComparisonPool
from proxy.shadow.exchange import MirroredRequest, ShadowRunner
from proxy.shadow.recorder import ShadowRecorder
from proxy.upstream.pool import UpstreamPool

log = logging.getLogger("proxy.shadow")
DRAIN_SECONDS = 5.0
GAUGE_SECONDS = 0.5  # queue and in-flight gauges are sampled, not set on every mirror


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
        self.table: Optional[RouteTable] = None  # the newest table any serving process sent
        self._parsed: dict[str, RouteTable] = {}  # by sha256: N serving processes send the same text
        self.readers: set[asyncio.Task] = set()
        self.inflight = 0

    async def serve(self) -> None:
        settings = self.settings
        consumers = [asyncio.create_task(self._consume()) for _ in range(max(1, settings.shadow_max_inflight))]
        consumers.append(asyncio.create_task(self._sample_gauges()))
        for path in (settings.shadow_data_socket, settings.shadow_control_socket):
            path.unlink(missing_ok=True)
        data_server = await asyncio.start_unix_server(self._on_data, path=str(settings.shadow_data_socket))
        control_server = await asyncio.start_unix_server(self._on_control, path=str(settings.shadow_control_socket))
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stopping.set)
        # Ctrl-C and SIGHUP reach the whole process group: the supervisor decides when we stop.
        loop.add_signal_handler(signal.SIGINT, lambda: None)
        loop.add_signal_handler(signal.SIGHUP, lambda: None)
        # As in the serving processes (proxy/app.py): what start-up built lives as long as the
        # process; out of the collector's sight, a full collection scans only what mirrors keep.
        gc.collect()
        gc.freeze()
        await stopping.wait()
        data_server.close()
        for reader in list(self.readers):
            reader.cancel()
        try:
            await asyncio.wait_for(self.queue.join(), DRAIN_SECONDS)
        except asyncio.TimeoutError:
            log.warning("shadow work left unfinished at exit", extra={"queued": self.queue.qsize()})
        control_server.close()
        for task in consumers:
            task.cancel()
        await self.upstreams.close()
        self.comparisons.close()
        self.recorder.close()

    async def _on_data(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self.readers.add(task)
        try:
            await self._read(reader)
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            self.readers.discard(task)
            writer.close()

    async def _read(self, data: asyncio.StreamReader) -> None:
        table: Optional[RouteTable] = None  # the table of the serving process at the other end
        async for message in frames.messages(data):
            kind = message[0]
            if kind == "mirror":
                # full: stop reading, the serving process drops instead of queueing more
                await self.queue.put((table, message))
            elif kind == "table":
                _, text, source = message
                table = await self._table(text, source) or table

            elif kind == "skip":
                _, route, target, context, reason = message
                self.runner.skip(route, target, context, reason)

    async def _table(self, text: str, source: str) -> Optional[RouteTable]:
        sha = hashlib.sha256(text.encode()).hexdigest()
        table = self._parsed.get(sha)
        if table is None:
            try:  # the proxy validated this text already; keep the last table if it differs here
                table = parse_route_table(text, source)
            except RouteTableError as exc:
                log.error("shadow worker cannot use the route table", extra={"error": str(exc)})
                return None
            if len(self._parsed) > 16:
                self._parsed.clear()
            self._parsed[sha] = table
        if self.table is None or table.sha256 != self.table.sha256:
            # Upstreams follow the newest table; a mirror whose target left it is skipped.
            await self.upstreams.sync(table)
            self.table = table
        return table

    async def _consume(self) -> None:
        while True:
            table, message = await self.queue.get()
            self.inflight += 1
            try:
                await self._exchange(table, MirroredRequest.from_frame(message))
            except Exception:
                log.exception("shadow exchange crashed")
            finally:
                self.inflight -= 1
                self.queue.task_done()

    async def _sample_gauges(self) -> None:
        # Each gauge write is a locked write to a multiprocess file: four per mirror were
        # measurable; a scrape every few seconds needs a fresh sample, not every change.
        while True:
            self.metrics.shadow_queued.set(self.queue.qsize())
            self.metrics.shadow_inflight.set(self.inflight)
            await asyncio.sleep(GAUGE_SECONDS)

    async def _exchange(self, table: Optional[RouteTable], request: MirroredRequest) -> None:
        route = table.route(request.route) if table else None
        if route is None or route.spec.target not in table.upstreams or route.spec.target not in self.upstreams.upstreams:
            self.runner.skip(request.route, None, request.context(), "route no longer in the route table")
            return
        await self.runner.run(request, route, self.upstreams[route.spec.target], self.upstreams[table.legacy])

    async def _on_control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (message := await frames.read(reader)) is not None:
                ask_id, op, kwargs = message
                try:
                    writer.write(frames.encode((ask_id, self._question(op, kwargs), None)))
                except Exception as exc:  # a bad question must not stop the answering
                    log.exception("shadow worker could not answer", extra={"op": op})
                    writer.write(frames.encode((ask_id, None, f"{type(exc).__name__}: {exc}")))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def _question(self, op: str, kwargs: dict):
        if op == "report":
            return self.recorder.report.to_dict(kwargs.get("route"), top=kwargs.get("top", 10))
        if op == "records":
            return self.recorder.records(kwargs.get("route"), kwargs.get("result"), kwargs.get("limit", 50))
        if op == "status":
            return {"pid": os.getpid(), "serving_processes": len(self.readers), "queued": self.queue.qsize(),
                    "inflight": self.inflight, "table": self.table.sha256 if self.table else None,
                    "cdc": self.runner.cdc_waits.status()}
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
    settings_json = sys.argv[1]
    replay_from = int(sys.argv[2]) if len(sys.argv) > 2 else None
    settings = ProxySettings.model_validate_json(settings_json)
    json_logging.configure(settings.log_level)
    # When CPU is short, clients come first: the serving processes keep their priority, this one
    # yields (and its bounded queue then makes them drop mirrors rather than fall behind).
    os.nice(settings.shadow_nice)
    if settings.shadow_sched_idle and hasattr(os, "SCHED_IDLE"):
        # SCHED_IDLE runs only on a CPU nothing else wants; niceness alone still takes a weighted
        # share and delays a woken serving process (measured: serving event loops late by 5-50 ms).
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError as exc:
            log.warning("shadow worker keeps the normal scheduling policy", extra={"error": str(exc)})
    uvloop.run(ShadowWorker(settings, replay_from).serve())


if __name__ == "__main__":
    main()
