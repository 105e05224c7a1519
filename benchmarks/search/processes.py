"""The two systems under test as real processes: the monolith under gunicorn (the stack's settings)
and the search service under uvicorn; plus the CDC pieces for the commit -> searchable measurement."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stack.readiness import free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]


class Process:
    def __init__(self, name: str, command: list[str], env: dict, cwd: Path, log_dir: Path):
        self.name = name
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(log_dir / f"{name}.log", "ab")
        self.popen = subprocess.Popen(command, env={**os.environ, **env}, cwd=cwd, stdout=self.log,
                                      stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()


def start_monolith(database_url: str, log_dir: Path) -> tuple[Process, str]:
    port = free_port()
    process = Process("monolith", [
        sys.executable, "-m", "gunicorn", "vobemusic.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", "3", "--worker-class", "gthread", "--threads", "4", "--timeout", "300",
    ], {"DJANGO_SETTINGS_MODULE": "vobemusic.settings.dev", "MONOLITH_DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING"}, ROOT / "legacy_monolith", log_dir)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz", timeout=120)
    return process, base


def start_search(env: dict, log_dir: Path, name: str = "search") -> tuple[Process, str]:
    port = free_port()
    process = Process(name, [sys.executable, "-m", "services.search.app"],
                      {"SEARCH_HOST": "127.0.0.1", "SEARCH_PORT": str(port), "LOG_LEVEL": "WARNING",
                       "PYTHONPATH": str(ROOT), **env}, ROOT, log_dir)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/readyz", timeout=180)
    return process, base


def connector_without_snapshot(path: Path) -> Path:
    """The shipped connector config with `snapshot.mode=no_data`: the measurement is about new commits,
    and re-streaming a million-row catalogue first would only delay it."""
    from cdc.settings import DEFAULT_CONNECTOR_FILE

    config = json.loads(DEFAULT_CONNECTOR_FILE.read_text())
    config["config"]["snapshot.mode"] = "no_data"
    path.write_text(json.dumps(config))
    return path
