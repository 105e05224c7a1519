"""/healthz (process alive), /readyz (engine streaming, broker and Postgres reachable), /metrics
(Prometheus) and /status (JSON for `cdc status` / `cdc lag`) on a small threaded HTTP server."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def serve(host: str, port: int, health: Callable[[], tuple[bool, dict]],
          ready: Callable[[], tuple[bool, dict]], status: Callable[[], dict]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            elif path in ("/healthz", "/readyz"):
                ok, detail = (health if path == "/healthz" else ready)()
                self._json(200 if ok else 503, {"status": "ok" if ok else "unavailable", **detail})
            elif path == "/status":
                self._json(200, status())
            else:
                self._json(404, {"detail": "Not found."})

        def _json(self, code: int, body: dict) -> None:
            self._send(code, json.dumps(body, default=str).encode(), "application/json")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):  # probes every second would flood the JSON log
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="relay-http", daemon=True).start()
    return server
