"""The proxy's process settings, from environment variables with working defaults for the local
stack. Per-route behaviour lives in the route table file, not here."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from proxy.corpus.scrub import DEV_SECRET as DEV_CORPUS_SECRET

ROOT = Path(__file__).resolve().parent.parent
DEV_ADMIN_TOKEN = "dev-proxy-admin-token-change-me"


class ProxySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROXY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    port_file: Path | None = Field(None, description="write the bound port here (useful with PROXY_PORT=0)")
    routes_file: Path = ROOT / "proxy" / "routes.yaml"
    data_dir: Path = ROOT / ".stack" / "proxy"
    audit_log: Path | None = None  # default: <data_dir>/route-audit.jsonl
    shadow_log: Path | None = None  # default: <data_dir>/shadow-records.jsonl
    admin_token: str = DEV_ADMIN_TOKEN

    # Serving processes sharing the listening socket (proxy/serving/supervisor.py); default: one per CPU.
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)
    # Private directory of one proxy run (set by the supervisor for its children): the shadow
    # worker's sockets, the serving processes' table states, Prometheus' multiprocess files.
    run_dir: Optional[Path] = None

    max_header_bytes: int = 32 * 1024  # all request headers together; above: 431
    max_body_bytes: int = 16 * 1024 * 1024  # request body; above: 413 (routes may lower it)
    replay_body_bytes: int = 1024 * 1024  # bodies up to this are buffered for retry/fallback/shadow
    allowed_hosts: str = "*"  # comma-separated; ".example.com" allows subdomains; "*" allows any
    trust_forwarded: bool = False  # keep X-Forwarded-* from clients (only behind a trusted proxy)
    keepalive_timeout: float = 75.0  # client-side keep-alive of the proxy itself
    coalesce_writes: bool = True  # response head and body in one write (proxy/serving/coalescing_http.py)

    # Shadow work runs in a child process (proxy/shadow/worker.py), never in the serving event loop.
    shadow_max_inflight: int = 32  # concurrent shadow exchanges in the worker
    shadow_queue: int = 256  # mirrored requests waiting in the worker; beyond, the worker stops reading
    shadow_backlog_bytes: int = 8 * 1024 * 1024  # unread bytes towards the worker; beyond, mirrors are dropped
    shadow_nice: int = Field(10, ge=0, le=19, description="scheduling niceness added to the shadow worker")
    shadow_sched_idle: bool = True  # Linux SCHED_IDLE for the shadow worker: it runs on otherwise idle CPU only
    shadow_max_body_bytes: int = 1024 * 1024  # responses above are not compared (recorded as skipped)
    compare_workers: int = 0  # extra processes for DeepDiff under the shadow worker; 0 = in the worker's loop
    noise_min_hits: int = 1  # legacy-vs-legacy differences needed before a field counts as noise

    # Regression corpus (proxy/corpus/): routes opt in with `corpus: {sample: ...}` in the route table.
    corpus_dir: Path | None = None  # default: <data_dir>/corpus, one folder per route
    corpus_secret: str = DEV_CORPUS_SECRET  # HMAC key of the scrubbing placeholders
    corpus_max_file_bytes: int = Field(8 * 1024 * 1024, ge=4096)  # a file is rotated before it passes this
    corpus_max_files: int = Field(4, ge=1)  # files kept per route (the oldest are deleted)
    corpus_flush_seconds: float = Field(1.0, gt=0)  # samples are written in batches this often

    health_interval: float = 5.0  # seconds between upstream health probes
    watch: bool = True  # hot-reload the route table file on change
    access_log: bool = True
    log_level: str = "info"

    @property
    def audit_log_path(self) -> Path:
        return self.audit_log or self.data_dir / "route-audit.jsonl"

    @property
    def shadow_log_path(self) -> Path:
        return self.shadow_log or self.data_dir / "shadow-records.jsonl"

    @property
    def corpus_path(self) -> Path:
        return self.corpus_dir or self.data_dir / "corpus"

    @property
    def shadow_data_socket(self) -> Path:
        return self.run_dir / "shadow-data.sock"

    @property
    def shadow_control_socket(self) -> Path:
        return self.run_dir / "shadow-control.sock"

    @property
    def worker_state_dir(self) -> Path:
        return self.run_dir / "workers"

    @property
    def allowed_host_list(self) -> list[str]:
        return [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]
