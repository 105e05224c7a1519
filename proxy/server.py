"""Start the proxy: `python -m proxy` (settings from PROXY_* environment variables, see settings.py).

uvicorn with uvloop and httptools, one process: the route table, breakers and shadow report live in
this process's memory (see docs/proxy.md for scaling out)."""
from __future__ import annotations

import logging
import socket

import uvicorn

from proxy import json_logging
from proxy.app import ProxyApp
from proxy.coalescing_http import CoalescingHttpToolsProtocol
from proxy.settings import ProxySettings

log = logging.getLogger("proxy")


def main() -> None:
    settings = ProxySettings()
    json_logging.configure(settings.log_level)
    # Bind first, so PROXY_PORT=0 (tests, benchmarks) gets a free port we can report before serving.
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    port = sock.getsockname()[1]
    settings.port = port
    if settings.port_file:
        staging = settings.port_file.with_name(settings.port_file.name + ".tmp")
        staging.write_text(str(port))
        staging.replace(settings.port_file)
    config = uvicorn.Config(
        ProxyApp(settings),
        loop="uvloop",
        http=CoalescingHttpToolsProtocol if settings.coalesce_writes else "httptools",
        lifespan="on",
        # X-Forwarded-* are the proxy's business (PROXY_TRUST_FORWARDED), not uvicorn's: by default
        # uvicorn would trust them from 127.0.0.1 and rewrite the client address.
        proxy_headers=False,
        access_log=False,  # the proxy writes its own JSON access log with route and upstream
        log_config=None,
        server_header=False,  # the upstream's Server and Date headers pass through unchanged
        date_header=False,
        timeout_keep_alive=int(settings.keepalive_timeout),
        backlog=4096,
    )
    log.info("proxy listening", extra={"host": settings.host, "port": port})
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
