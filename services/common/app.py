"""create_app(): the FastAPI application every service starts from.

It adds the probes (/healthz liveness, /readyz dependencies), /metrics, JSON logging, the
DRF-compatible error handlers, Django's ALLOWED_HOSTS check and APPEND_SLASH behaviour for the
public paths the service took over from the monolith."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Awaitable, Callable, Iterable, Optional, Sequence

from fastapi import APIRouter, FastAPI

from services.common.django_urls import AppendSlash
from services.common.errors import install_error_handlers
from services.common.observability import RequestMetrics, configure_logging, metrics_endpoint
from services.common.public_url import AllowedHosts
from services.common.responses import JSONResponse
from services.common.settings import ServiceSettings

ReadinessCheck = Callable[[], Awaitable[Optional[str]]]  # None when fine, else the reason
PROBE_PATHS = ("/healthz", "/readyz", "/metrics", "/internal/")


def create_app(
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    *,
    public_prefixes: Iterable[str],
    url_bases: Iterable[str],
    readiness: dict[str, ReadinessCheck] | None = None,
    lifespan=None,
) -> FastAPI:
    """`public_prefixes` are the monolith paths this service answers (e.g. "/api/v1/tracks");
    `url_bases` the router paths the monolith matches under them (django_urls.router_bases), for
    format suffixes, APPEND_SLASH and the HTML 404."""
    configure_logging(settings.log_level)
    checks = dict(readiness or {})

    @asynccontextmanager
    async def _lifespan(app: FastAPI):
        if lifespan is None:
            yield
        else:
            async with lifespan(app):
                yield

    app = FastAPI(
        title=settings.service_name, lifespan=_lifespan, redirect_slashes=False,
        default_response_class=JSONResponse, docs_url="/internal/docs", openapi_url="/internal/openapi.json",
        redoc_url=None,
    )
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz():
        report, ok = {}, True
        for name, check in checks.items():
            try:
                problem = await check()
            except Exception as exc:  # any failure of a dependency means "not ready", with the reason
                problem = f"{type(exc).__name__}: {exc}"
            report[name] = problem or "ok"
            ok = ok and problem is None
        return JSONResponse({"status": "ok" if ok else "unavailable", **report}, status_code=200 if ok else 503)

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)

    # Outermost first: host check, then Django's URL behaviour, then metrics around the routes.
    app.add_middleware(RequestMetrics, service=settings.service_name)
    app.add_middleware(AppendSlash, bases=list(url_bases), prefixes=tuple(public_prefixes))
    app.add_middleware(AllowedHosts, allowed_hosts=settings.allowed_host_list, exempt_prefixes=PROBE_PATHS)
    return app
