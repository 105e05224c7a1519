"""JSON log lines (the shared schema) and Prometheus metrics, the same for every service."""
from __future__ import annotations

import logging
import sys
import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability import json_logs

REQUESTS = Counter("http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stdout in the schema every component shares (observability/json_logs.py)."""
    json_logs.configure(level, sys.stdout)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        # uvicorn --no-access-log leaves its access logger without handlers and not propagating;
        # keep it silent then (a JSON line per request costs as much as a small request).
        enabled = bool(logger.handlers) or logger.propagate
        logger.handlers[:] = []
        logger.propagate = enabled


class RequestMetrics:
    """ASGI middleware counting requests by route template (not raw path: bounded label values)."""

    def __init__(self, app: ASGIApp, service: str):
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(self.service, scope["method"], template, str(status["code"])).inc()
            LATENCY.labels(self.service, scope["method"], template).observe(time.perf_counter() - started)


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
