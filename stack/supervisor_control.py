"""Talks to the stack's supervisord over its unix socket (XML-RPC), starting it when needed."""
from __future__ import annotations

import http.client
import subprocess
import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

from stack.settings import StackSettings


class Supervisor:
    def __init__(self, settings: StackSettings):
        self.settings = settings

    @property
    def rpc(self) -> xmlrpc.client.ServerProxy:
        # A fresh connection per call: the transport cannot recover from a failed request.
        transport = SupervisorTransport(None, None, f"unix://{self.settings.supervisor_socket}")
        return xmlrpc.client.ServerProxy("http://localhost", transport=transport)

    def is_running(self) -> bool:
        try:
            return self.rpc.supervisor.getState()["statename"] == "RUNNING"
        except (OSError, http.client.HTTPException, xmlrpc.client.Fault):
            return False

    def ensure_running(self) -> None:
        """Start supervisord, or make a running one pick up the freshly written config."""
        if self.is_running():
            added, changed, removed = self.rpc.supervisor.reloadConfig()[0]
            for name in removed:
                self.rpc.supervisor.stopProcessGroup(name, True)
                self.rpc.supervisor.removeProcessGroup(name)
            for name in changed:
                self.rpc.supervisor.stopProcessGroup(name, True)
                self.rpc.supervisor.removeProcessGroup(name)
                self.rpc.supervisor.addProcessGroup(name)
            for name in added:
                self.rpc.supervisor.addProcessGroup(name)
            return
        subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.settings.supervisor_conf)],
            check=True,
        )
        deadline = time.monotonic() + 15
        while not self.is_running():
            if time.monotonic() > deadline:
                raise RuntimeError(f"supervisord did not start; see {self.settings.log_dir / 'supervisord.log'}")
            time.sleep(0.1)

    def state(self, name: str) -> str:
        try:
            return self.rpc.supervisor.getProcessInfo(name)["statename"]
        except xmlrpc.client.Fault:
            return "UNKNOWN"

    def processes(self) -> dict[str, dict]:
        if not self.is_running():
            return {}
        return {info["name"]: info for info in self.rpc.supervisor.getAllProcessInfo()}

    def start(self, name: str) -> None:
        if self.state(name) not in ("RUNNING", "STARTING"):
            self.rpc.supervisor.startProcess(name, True)

    def stop(self, name: str) -> None:
        if self.state(name) in ("RUNNING", "STARTING", "BACKOFF"):
            self.rpc.supervisor.stopProcess(name, True)

    def shutdown(self) -> None:
        if self.is_running():
            self.rpc.supervisor.shutdown()
            while self.is_running():
                time.sleep(0.1)
