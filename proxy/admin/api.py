"""The proxy's own HTTP endpoints: probes and metrics (open), and the admin API under /_proxy/
(bearer token from PROXY_ADMIN_TOKEN). Errors use the DRF shape like everything else users see.

Any serving process may answer: the route table is checked against the file first, figures and
metrics are totals over all processes, shadow answers come from the one shared shadow worker, and
a flip returns once every serving process applied it. /readyz and /_proxy/upstreams describe the
answering process (each has its own probes and breakers)."""
from __future__ import annotations

import asyncio
import base64
import hmac
import os
from typing import Literal, Optional, Protocol

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from proxy.admin.figures import empty, route_figures
from proxy.compare import render_html, render_text
from proxy.metrics import ProxyMetrics
from proxy.routing.audit_log import AuditLog, describe_changes
from proxy.routing.handover import HandbackFailed, OwnershipError
from proxy.routing.reloader import TableReloader
from proxy.routing.table import RouteTable, RouteTableError
from proxy.settings import ProxySettings
from proxy.shadow.link import ShadowLink, ShadowUnavailable
from proxy.upstream.pool import UpstreamPool

# Bearer for tools; Basic (token as password) lets a browser open the HTML report.
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="proxy-admin", Basic realm="proxy-admin"'}


class ServingState(Protocol):
    """What the admin app reads and acts on: the serving process's parts (ProxyApp has them). A
    protocol, so this module never imports the app that mounts it."""

    settings: ProxySettings
    metrics: ProxyMetrics
    upstreams: UpstreamPool
    audit: AuditLog
    shadow: ShadowLink
    reloader: TableReloader

    @property
    def table(self) -> Optional[RouteTable]: ...


class FlipRequest(BaseModel):
    mode: Literal["legacy", "shadow", "canary", "new", "retired"]
    percent: Optional[float] = Field(None, ge=0, le=100)
    who: Optional[str] = Field(None, max_length=200, description="who is flipping, for the audit log")


def build_admin_app(proxy: ServingState) -> FastAPI:
    app = FastAPI(title="VobeMusic routing proxy admin", docs_url="/_proxy/docs", openapi_url="/_proxy/openapi.json",
                  redoc_url=None)

    @app.exception_handler(HTTPException)
    async def drf_error(_request, exc: HTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def drf_field_errors(_request, exc: RequestValidationError):
        fields: dict[str, list[str]] = {}
        for error in exc.errors():
            name = str(error["loc"][-1]) if error["loc"] else "non_field_errors"
            fields.setdefault(name, []).append(error["msg"])
        return JSONResponse(fields, status_code=400)

    def require_token(authorization: Optional[str] = Header(None), x_proxy_token: Optional[str] = Header(None)):
        token = x_proxy_token
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "bearer":
                token = credentials.strip()
            elif scheme.lower() == "basic":  # browsers (the HTML report): any user name, the token as password
                try:
                    token = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[2]
                except (ValueError, UnicodeDecodeError):
                    token = None
        if not token:
            raise HTTPException(401, "Authentication credentials were not provided.", headers=_CHALLENGE)
        if not hmac.compare_digest(token.encode(), proxy.settings.admin_token.encode()):
            raise HTTPException(401, "Invalid admin token.", headers=_CHALLENGE)

    admin = [Depends(require_token)]

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz():
        table = proxy.table
        if table is None:
            return JSONResponse({"status": "unavailable", "route_table": "not loaded"}, status_code=503)
        upstreams = {name: u.describe() for name, u in proxy.upstreams.upstreams.items()}
        # Upstreams that serve users now (legacy, canary/new targets) must be up; shadow targets not.
        serving = {table.legacy} | {r.spec.target for r in table.routes
                                    if r.mode.value in ("canary", "new", "retired") and r.spec.target}
        down = sorted(name for name in serving if not proxy.upstreams[name].healthy)
        body = {"status": "ok" if not down else "unavailable", "route_table": table.sha256[:12],
                "route_table_error": proxy.reloader.last_error, "down": down, "upstreams": upstreams}
        return JSONResponse(body, status_code=200 if not down else 503)

    @app.get("/metrics")
    async def metrics():
        # Every process's files (serving processes, shadow worker, supervisor): read off the loop.
        page = await asyncio.to_thread(lambda: generate_latest(proxy.metrics.exposed()))
        return PlainTextResponse(page, media_type=CONTENT_TYPE_LATEST)

    @app.get("/_proxy/routes", dependencies=admin)
    async def routes():
        """Every route with its mode, target and live figures (and the table's provenance)."""
        await proxy.reloader.ensure_current()
        table = proxy.table
        try:
            shadow = (await proxy.shadow.ask("report", top=3))["routes"]
        except ShadowUnavailable:
            shadow = {}
        figures = await asyncio.to_thread(lambda: route_figures(proxy.metrics.exposed()))
        return {
            "file": str(proxy.reloader.path),
            "sha256": table.sha256,
            "loaded_at": table.loaded_at,
            "last_error": proxy.reloader.last_error,
            "answered_by_pid": os.getpid(),
            "serving_processes": proxy.reloader.serving_processes(),
            "routes": [
                {"name": r.name, "mode": r.mode.value, "percent": r.spec.percent, "target": r.spec.target,
                 "compare": r.spec.compare, "path": r.spec.path, "methods": r.spec.methods,
                 "fallback": r.spec.fallback, "stats": figures.get(r.name) or empty(),
                 "shadow": _shadow_summary(shadow.get(r.name))}
                for r in (*table.routes, table.unmatched)
            ],
        }

    @app.put("/_proxy/routes/{name}", dependencies=admin)
    async def flip(name: str, change: FlipRequest, request: Request):
        """Set one route's mode: written to the route table file (comments kept), applied at once,
        audited once. Returns when every serving process serves the new table. The same call with
        the old mode is the rollback. A route with `write_owner` hands the writes over in the same
        step (the service first on the way to new, the route first on the way back)."""
        await proxy.reloader.ensure_current()
        if proxy.table.route(name) is None:
            raise HTTPException(404, f"No route named {name!r}.")
        who = change.who or request.headers.get("x-proxy-actor") or "admin-api"
        try:
            flip, propagation = await proxy.reloader.flip(name, change.mode, change.percent, who)
        except RouteTableError as exc:
            raise HTTPException(400, str(exc)) from None
        except OwnershipError as exc:  # nothing changed: the service did not take the writes over
            raise HTTPException(502 if exc.status is None else 409,
                                f"route {name!r} not flipped: the service did not take write ownership "
                                f"({exc}).") from None
        except HandbackFailed as exc:
            return JSONResponse({"detail": str(exc), "handback_failed": True, "route": name,
                                 "mode": proxy.table.route(name).mode.value}, status_code=502)
        route = flip.new.route(name)
        return {"route": name, "mode": route.mode.value, "percent": route.spec.percent,
                "sha256": flip.new.sha256, "changes": describe_changes(flip.old, flip.new),
                "ownership": flip.ownership, "audit_id": flip.audit_id, "serving_processes": propagation}

    @app.post("/_proxy/reload", dependencies=admin)
    async def reload(request: Request):
        ok, message = await proxy.reloader.reload("admin-reload", who=request.headers.get("x-proxy-actor"))
        if not ok:
            raise HTTPException(400, message)
        propagation = await proxy.reloader.propagate(proxy.table.sha256)
        return {"result": message, "sha256": proxy.table.sha256, "serving_processes": propagation}

    @app.get("/_proxy/upstreams", dependencies=admin)
    async def upstreams():
        return {name: u.describe() for name, u in proxy.upstreams.upstreams.items()}

    @app.get("/_proxy/shadow/report", dependencies=admin)
    async def shadow_report(route: Optional[str] = None, top: int = Query(10, ge=0, le=100),
                            format: Literal["json", "text"] = "json"):
        report = await _shadow(proxy, "report", route=route, top=top)
        if format == "text":
            return PlainTextResponse(render_text(report) + "\n")
        return report

    @app.get("/_proxy/shadow/report.html", dependencies=admin, response_class=HTMLResponse)
    async def shadow_report_page(route: Optional[str] = None, top: int = Query(10, ge=0, le=100)):
        """The shadow report for people: per route, requests compared, match rate, top differing
        fields with an example each, recent errors."""
        return HTMLResponse(render_html(await _shadow(proxy, "report", route=route, top=top)))

    @app.get("/_proxy/shadow/status", dependencies=admin)
    async def shadow_status():
        """The shared shadow worker: pid, serving processes connected, queue, exchanges in flight,
        newest route table it knows."""
        return await _shadow(proxy, "status")

    @app.get("/_proxy/shadow/records", dependencies=admin)
    async def shadow_records(route: Optional[str] = None, result: Optional[str] = None,
                             limit: int = Query(50, ge=1, le=1000)):
        return {"records": await _shadow(proxy, "records", route=route, result=result, limit=limit)}

    @app.get("/_proxy/audit", dependencies=admin)
    async def audit(limit: int = Query(50, ge=1, le=1000)):
        await proxy.reloader.ensure_current()  # a hand edit not applied yet gets its entry first
        return {"entries": proxy.audit.tail(limit)}

    return app


async def _shadow(proxy: ServingState, op: str, **kwargs):
    try:
        return await proxy.shadow.ask(op, **kwargs)
    except ShadowUnavailable as exc:
        raise HTTPException(503, f"Shadow results are unavailable right now: {exc}.") from None


def _shadow_summary(route_report: Optional[dict]) -> Optional[dict]:
    if not route_report:
        return None
    return {"requests": route_report["requests"], "compared": route_report["compared"],
            "mismatch_rate": route_report["mismatch_rate"], "noise_rate": route_report["noise_rate"],
            "match_rate": route_report["match_rate"], "results": route_report["results"],
            "rates": route_report["rates"]}
