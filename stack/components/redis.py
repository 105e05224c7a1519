"""Redis for the monolith's cache and rate-limit counters (memory only, like a cache should be)."""
from __future__ import annotations

import shutil

from stack.component import Component
from stack.readiness import tcp_open
from stack.settings import StackSettings


def component(settings: StackSettings) -> Component:
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    return Component(
        name="redis",
        command=[server, "--bind", settings.host, "--port", str(settings.redis_port),
                 "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        ready=tcp_open(settings.host, settings.redis_port),
        urls={"redis": f"redis://{settings.host}:{settings.redis_port}/0"},
    )
