"""Steady traffic through the proxy while routes flip: one writer running the domain's write load
and one reader cycling the domain's read paths. Every request must get the answer the load
expects; anything else is a failure the lifecycle reports."""
from __future__ import annotations

import threading
import time
import uuid
from typing import Callable, Optional, Protocol, Sequence

import httpx

from cdc.testing import wait_until

DEADLINE = 300
# Answers the writer gets back from call(); None when the request failed (already recorded).
Call = Callable[..., Optional[httpx.Response]]


class WriteLoad(Protocol):
    """A domain's writes: `write(call, step)` makes one step of writes through
    `call(method, path, expected_statuses, **httpx_kwargs)`, which records every unexpected answer
    as a failure and returns the response (None on failure). It should touch only rows it created,
    so the read paths stay comparable in shadow."""

    def write(self, call: Call, step: int) -> None: ...


class Load:
    def __init__(self, proxy_url: str, writes: WriteLoad, read_paths: Sequence[str], *,
                 write_pause: float = 0.05, read_pause: float = 0.02):
        self.client = httpx.Client(base_url=proxy_url, timeout=60)
        self.writes_load, self.read_paths = writes, list(read_paths)
        self.write_pause, self.read_pause = write_pause, read_pause
        self.failures: list[str] = []
        self.writes = self.reads = 0
        self.stop = threading.Event()
        self.writes_allowed = threading.Event()
        self.writes_allowed.set()
        self.writer_idle = threading.Event()
        self.threads = [threading.Thread(target=self._write_loop, daemon=True),
                        threading.Thread(target=self._read_loop, daemon=True)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.writes_allowed.set()
        for thread in self.threads:
            thread.join(120)
        self.client.close()

    def call(self, method: str, path: str, expected: tuple[int, ...], **kwargs) -> Optional[httpx.Response]:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            self.failures.append(f"{method} {path}: {error!r}")
            return None
        if response.status_code not in expected:
            self.failures.append(f"{method} {path}: {response.status_code} {response.text[:300]}")
            return None
        return response

    def _write_loop(self) -> None:
        step = 0
        while not self.stop.is_set():
            if not self.writes_allowed.is_set():
                self.writer_idle.set()
                self.writes_allowed.wait()
                continue
            self.writer_idle.clear()
            self.writes_load.write(self.call, step)
            self.writes += 1
            step += 1
            time.sleep(self.write_pause)
        self.writer_idle.set()

    def _read_loop(self) -> None:
        step = 0
        while not self.stop.is_set():
            # A new canary cookie per request spreads the requests over both sides of a canary.
            self.call("GET", self.read_paths[step % len(self.read_paths)], (200,),
                      headers={"Cookie": f"vobe_cid={uuid.uuid4().hex}"})
            self.reads += 1
            step += 1
            time.sleep(self.read_pause)

    def pause_writes(self) -> None:
        self.writer_idle.clear()
        self.writes_allowed.clear()
        wait_until(self.writer_idle.is_set, DEADLINE, 0.05, "writer paused")

    def resume_writes(self) -> None:
        self.writes_allowed.set()

    def settle(self) -> None:
        """Returns once each side has finished a request it started after the call (so a request
        routed by the previous route table is no longer in flight)."""
        reads, writes = self.reads, self.writes
        wait_until(lambda: self.reads >= reads + 2 or self.failures, DEADLINE, 0.02, "reader settled")
        if self.writes_allowed.is_set():
            wait_until(lambda: self.writes >= writes + 1 or self.failures, DEADLINE, 0.02, "writer settled")

    def run_for(self, ops: int) -> None:
        """Wait until the writer has made `ops` more steps (the reader goes on meanwhile)."""
        target = self.writes + ops
        wait_until(lambda: self.writes >= target or self.failures, DEADLINE, 0.1, f"{ops} more write steps")
        assert not self.failures, self.failures[:10]
