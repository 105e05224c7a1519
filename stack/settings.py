"""Where the local stack keeps its state and which ports its components use.

Every value has a working default for one machine and can be overridden from the environment,
so two checkouts (or a test run beside a running stack) can coexist."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class StackSettings:
    root: Path = ROOT
    state_dir: Path = field(default_factory=lambda: Path(os.environ.get("VOBE_STATE_DIR", ROOT / ".stack" / "run")))
    python: str = sys.executable
    host: str = "127.0.0.1"
    postgres_port: int = field(default_factory=lambda: _port("VOBE_PG_PORT", 55432))
    redis_port: int = field(default_factory=lambda: _port("VOBE_REDIS_PORT", 56379))
    broker_port: int = field(default_factory=lambda: _port("VOBE_BROKER_PORT", 59092))
    relay_port: int = field(default_factory=lambda: _port("VOBE_RELAY_PORT", 8091))
    monolith_port: int = field(default_factory=lambda: _port("VOBE_MONOLITH_PORT", 8000))
    proxy_port: int = field(default_factory=lambda: _port("VOBE_PROXY_PORT", 8080))
    catalog_port: int = field(default_factory=lambda: _port("VOBE_CATALOG_PORT", 8101))
    search_port: int = field(default_factory=lambda: _port("VOBE_SEARCH_PORT", 8102))
    demo_tracks: int = field(default_factory=lambda: int(os.environ.get("VOBE_DEMO_TRACKS", 10_000)))

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def supervisor_conf(self) -> Path:
        return self.state_dir / "supervisord.conf"

    @property
    def supervisor_socket(self) -> Path:
        return self.state_dir / "supervisor.sock"

    def database_url(self, database: str, driver: str = "postgresql") -> str:
        return f"{driver}://postgres@{self.host}:{self.postgres_port}/{database}"

    def http_url(self, port: int, path: str = "") -> str:
        return f"http://{self.host}:{port}{path}"
