"""The routing proxy: the single entry point users call (see docs/proxy.md)."""
from __future__ import annotations

import os

from stack.component import Component
from stack.readiness import http_ok
from stack.settings import StackSettings


def component(settings: StackSettings) -> Component:
    base = settings.http_url(settings.proxy_port)
    return Component(
        name="proxy",
        command=[settings.python, "-m", "proxy"],
        env={
            "PROXY_HOST": settings.host,
            "PROXY_PORT": str(settings.proxy_port),
            "PROXY_DATA_DIR": str(settings.state_dir / "proxy"),
            "PROXY_ADMIN_TOKEN": os.environ.get("PROXY_ADMIN_TOKEN", "dev-proxy-admin-token-change-me"),
            "MONOLITH_URL": settings.http_url(settings.monolith_port),
            "CATALOG_URL": settings.http_url(settings.catalog_port),
            "SEARCH_URL": settings.http_url(settings.search_port),
        },
        cwd=settings.root,
        ready=http_ok(base + "/healthz"),
        stop_signal="TERM",
        urls={"API (through the proxy)": base + "/api/v1/", "proxy metrics": base + "/metrics"},
    )
