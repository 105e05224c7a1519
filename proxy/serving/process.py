"""One serving process: `python -m proxy.serving.process LISTEN_FD`, started by proxy/serving/supervisor.py.

uvicorn with uvloop and httptools on the socket the supervisor bound and shares with the other
serving processes (the kernel hands each new connection to one of them)."""
from __future__ import annotations

import signal
import sys


def main() -> None:
    # A SIGHUP before the route table reloader handles it must not end the process (default action).
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    import socket

    import uvicorn

    from proxy import json_logging
    from proxy.app import ProxyApp
    from proxy.serving.coalescing_http import CoalescingHttpToolsProtocol
    from proxy.settings import ProxySettings

    settings = ProxySettings()
    json_logging.configure(settings.log_level)
    sock = socket.socket(fileno=int(sys.argv[1]))
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
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
