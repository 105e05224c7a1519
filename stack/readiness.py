"""Small probes the supervisor polls until a component is ready, and the helpers tests and benchmarks
use to start their own processes on free ports and wait for them."""
from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from typing import Callable


def http_ok(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError):
            return False

    return probe


def tcp_open(host: str, port: int) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False

    return probe


def free_port() -> int:
    """A loopback port nothing listens on right now (for processes started on ephemeral ports)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(probe: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(interval)
    return probe()


def wait_http(url: str, timeout: float = 60) -> None:
    """Wait until `url` answers 2xx; RuntimeError after `timeout` seconds."""
    if not wait_until(http_ok(url), timeout, interval=0.1):
        raise RuntimeError(f"{url} did not answer within {timeout:g} s")
