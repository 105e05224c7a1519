"""`python -m proxy`: the proxy's supervisor process (docs/adr/0005-proxy-serving-processes.md).

It binds the listening socket once, then runs, as its children:
  * PROXY_WORKERS serving processes (`python -m proxy.serving.process`), each a uvicorn event loop
    accepting on that same inherited socket, each watching the route table file itself;
  * one shadow worker (`python -m proxy.shadow.worker`) shared by all serving processes.
A child that dies is started again. The supervisor serves no traffic: it owns the run directory
(sockets, serving processes' table states, Prometheus' multiprocess files), writes the audit entry
of the table loaded at start (once, not once per serving process), forwards SIGHUP to the serving
processes (a route table reload, never a restart) and on SIGTERM/SIGINT stops the serving processes
first, so their last mirrors reach the shadow worker, then the shadow worker."""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import Optional

from proxy import json_logging
from proxy.settings import ProxySettings

log = logging.getLogger("proxy.supervisor")
RESTART_DELAY = 1.0
STOP_TIMEOUT = 20.0


def listening_socket(settings: ProxySettings) -> socket.socket:
    # Bind here, so PROXY_PORT=0 (tests, benchmarks) gets a free port we can report before serving.
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    def __init__(self, settings: ProxySettings, sock: socket.socket, run_dir: Path):
        from proxy.metrics import SupervisorMetrics  # after PROMETHEUS_MULTIPROC_DIR is set
        self.settings = settings
        self.sock = sock
        self.run_dir = run_dir
        self.metrics = SupervisorMetrics()
        self.env = {**os.environ}
        self.workers: dict[int, asyncio.subprocess.Process] = {}
        self.shadow: Optional[asyncio.subprocess.Process] = None
        self._records_start: Optional[int] = None
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._forward_hup)
        await self._start_shadow()
        for _ in range(self.settings.workers):
            await self._start_worker()
        self._spawn(self._announce_when_serving())
        await self._stopping.wait()
        await self._stop()

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- serving processes ---------------------------------------------------------------------------

    async def _start_worker(self) -> None:
        fd = self.sock.fileno()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "proxy.serving.process", str(fd), pass_fds=(fd,), env=self.env,
            stdin=asyncio.subprocess.DEVNULL)
        self.workers[process.pid] = process
        self._spawn(self._replace_when_exited(process, "serving process", self.metrics.worker_restarts,
                                              self._start_worker))

    async def _replace_when_exited(self, process: asyncio.subprocess.Process, what: str, restarts,
                                   start) -> None:
        """Wait for a child to exit; unless the proxy is stopping, count it and start another."""
        code = await process.wait()
        self.workers.pop(process.pid, None)
        self._forget(process.pid)
        if self._stopping.is_set():
            return
        log.error(f"{what} exited; starting another", extra={"pid": process.pid, "exit_code": code})
        restarts.inc()
        await asyncio.sleep(RESTART_DELAY)
        if not self._stopping.is_set():
            await start()

    def serving(self) -> set[int]:
        """Serving processes that serve a route table and handle SIGHUP (they published their state)."""
        return {int(p.name) for p in self.settings.worker_state_dir.iterdir() if p.name.isdigit()}

    async def _announce_when_serving(self) -> None:
        # The port file says "every serving process is serving" (tests, benchmarks wait for it).
        for _ in range(1200):
            if len(self.serving() & set(self.workers)) >= self.settings.workers or self._stopping.is_set():
                break
            await asyncio.sleep(0.05)
        write_port_file(self.settings, self.sock.getsockname()[1])
        log.info("proxy serving", extra={"serving_processes": sorted(self.serving())})

    def _forget(self, pid: int) -> None:
        from prometheus_client import multiprocess
        (self.settings.worker_state_dir / str(pid)).unlink(missing_ok=True)
        multiprocess.mark_process_dead(pid)  # its live gauges no longer count

    def _forward_hup(self) -> None:
        # Only to serving processes that handle SIGHUP already (they published their table state);
        # one still starting reads the file when it gets there.
        for pid in self.serving() & set(self.workers):
            try:
                os.kill(pid, signal.SIGHUP)
            except ProcessLookupError:
                pass

    # -- shadow worker -------------------------------------------------------------------------------

    async def _start_shadow(self) -> None:
        replay = []
        if self._records_start is None:
            path = self.settings.shadow_log_path
            self._records_start = path.stat().st_size if path.exists() else 0
        else:  # started again after a crash: rebuild the report from this run's records
            replay = [str(self._records_start)]
        settings_json = self.settings.model_dump_json(include=SHADOW_SETTINGS)
        self.shadow = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "proxy.shadow.worker", settings_json, *replay, env=self.env,
            stdin=asyncio.subprocess.DEVNULL)
        self._spawn(self._replace_when_exited(self.shadow, "shadow worker", self.metrics.shadow_worker_restarts,
                                              self._start_shadow))
        # Serving processes connect as they start, and again whenever the socket goes away.
        for _ in range(200):
            if self.settings.shadow_data_socket.exists() or self.shadow.returncode is not None:
                break
            await asyncio.sleep(0.05)

    # -- stopping --------------------------------------------------------------------------------------

    async def _stop(self) -> None:
        log.info("proxy stopping", extra={"serving_processes": len(self.workers)})
        self.sock.close()  # our copy; each serving process stops accepting on its own as it shuts down
        await _terminate(list(self.workers.values()))
        if self.shadow is not None:
            await _terminate([self.shadow])
        for task in list(self._tasks):
            task.cancel()


async def _terminate(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            try:
                process.terminate()
            except ProcessLookupError:
                pass
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()


SHADOW_SETTINGS = {"data_dir", "shadow_log", "noise_min_hits", "compare_workers", "shadow_max_inflight",
                   "shadow_queue", "shadow_nice", "shadow_sched_idle", "shadow_max_body_bytes", "health_interval", "log_level",
                   "run_dir"}


def main() -> None:
    # Serving processes may inherit a SIGHUP meant for them before they handle it: never fatal.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    settings = ProxySettings()
    json_logging.configure(settings.log_level)
    # One private directory per run (mode 0700): short paths for the Unix sockets, removed at exit.
    run_dir = Path(tempfile.mkdtemp(prefix="vobe-proxy-"))
    metrics_dir = run_dir / "metrics"
    metrics_dir.mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    os.environ["PROXY_RUN_DIR"] = str(run_dir)
    settings.run_dir = run_dir
    settings.worker_state_dir.mkdir()
    try:
        from proxy.routing.audit_log import AuditLog, current_actor
        from proxy.routing.table import RouteTableError, load_route_table
        try:  # an invalid file stops the start here, before any child is started
            table = load_route_table(settings.routes_file)
        except RouteTableError as exc:
            log.error("route table invalid; not starting", extra={"error": str(exc)})
            sys.exit(1)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        AuditLog(settings.audit_log_path).record(current_actor(), "startup", None, table, changes=[],
                                                 note="route table loaded at start")
        sock = listening_socket(settings)
        port = sock.getsockname()[1]
        os.environ["PROXY_PORT"] = str(port)
        log.info("proxy listening", extra={"host": settings.host, "port": port, "workers": settings.workers})
        import uvloop
        uvloop.run(Supervisor(settings, sock, run_dir).run())
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def write_port_file(settings: ProxySettings, port: int) -> None:
    if settings.port_file:
        staging = settings.port_file.with_name(settings.port_file.name + ".tmp")
        staging.write_text(str(port))
        staging.replace(settings.port_file)


if __name__ == "__main__":
    main()
