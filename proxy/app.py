"""The proxy as an ASGI application: route each client request by the live route table and answer it
from legacy or the new service; the proxy's own endpoints (/healthz, /readyz, /metrics, /_proxy/*)
are served by the admin app.

This module is the hot path: plain ASGI, no framework, no per-request allocation it can avoid."""
from __future__ import annotations

import gc
import logging
import random
import time
from typing import Optional

from proxy.admin.api import build_admin_app
from proxy.corpus.recording import CorpusRecorder
from proxy.metrics import ProxyMetrics
from proxy.routing.audit_log import AuditLog
from proxy.routing.canary import on_new_side, sticky_key
from proxy.routing.reloader import TableReloader
from proxy.routing.table import SAFE_METHODS, Mode, Route, RouteTable
from proxy.serving.access_log import AccessLog
from proxy.serving.forwarding import BodyTooLarge, Forwarder, RequestBody, ResponseTee, UpstreamFailure
from proxy.serving.http_errors import MESSAGES, send_error
from proxy.serving.loop_monitor import LoopMonitor
from proxy.serving.request_headers import (WANT_WAL_LSN, RequestGuard, RequestRejected, client_address,
                                           upstream_headers)
from proxy.settings import ProxySettings
from proxy.shadow.exchange import MirroredRequest
from proxy.shadow.link import ShadowLink
from proxy.upstream.pool import UpstreamPool

log = logging.getLogger("proxy")

OWN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
ADMIN_PREFIX = "/_proxy/"
_CLOSE = ((b"connection", b"close"),)  # after refusing a request whose body we did not read


class ProxyApp:
    def __init__(self, settings: Optional[ProxySettings] = None):
        self.settings = settings or ProxySettings()
        self.metrics = ProxyMetrics()
        self.upstreams = UpstreamPool(self.metrics, self.settings.health_interval)
        self.audit = AuditLog(self.settings.audit_log_path)
        self.shadow = ShadowLink(self.settings, self.metrics)
        state_dir = self.settings.worker_state_dir if self.settings.run_dir else None
        self.reloader = TableReloader(self.settings.routes_file, self.audit, self.metrics,
                                      before_swap=self._before_swap, state_dir=state_dir)
        self.forwarder = Forwarder(self.metrics)
        self.guard = RequestGuard(self.settings.max_header_bytes, self.settings.allowed_host_list)
        self.loop_monitor = LoopMonitor(self.metrics)
        self.started_at = time.time()
        self.corpus = CorpusRecorder(self.settings.corpus_path, self.settings.corpus_secret,
                                     self.settings.corpus_max_file_bytes, self.settings.corpus_max_files,
                                     self.settings.corpus_flush_seconds)
        access_wanted = self.settings.access_log and logging.getLogger("proxy.access").isEnabledFor(logging.INFO)
        self.access_log = AccessLog() if access_wanted else None
        self.admin = build_admin_app(self)  # last: it reads the parts built above

    @property
    def table(self) -> Optional[RouteTable]:
        return self.reloader.table

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http":
            path = scope["path"]
            if path in OWN_PATHS or path.startswith(ADMIN_PREFIX):
                return await self.admin(scope, receive, send)
            return await self.handle(scope, receive, send)
        if kind == "lifespan":
            return await self._lifespan(receive, send)
        if kind == "websocket":  # not proxied yet: refuse the handshake cleanly
            await send({"type": "websocket.close", "code": 1003})

    async def handle(self, scope, receive, send) -> None:
        started = time.perf_counter()
        table = self.reloader.table  # one table for the whole request, whatever flips meanwhile
        method = scope["method"]
        try:
            host = self.guard.check(scope)
        except RequestRejected as rejected:
            self.metrics.rejected.labels(rejected.code).inc()
            await send_error(send, rejected.status, rejected.detail, rejected.code, _CLOSE)
            return
        route = table.match(method, scope["path"])
        spec = route.spec
        limit = self.settings.max_body_bytes if spec.max_body_bytes is None else spec.max_body_bytes
        body = RequestBody(scope, receive, limit)
        if body.declared_length is not None and not 0 <= body.declared_length <= limit:
            code = "body_too_large" if body.declared_length > limit else "bad_content_length"
            self.metrics.rejected.labels(code).inc()
            await send_error(send, 413 if code == "body_too_large" else 400,
                             None if code == "body_too_large" else "Bad request: invalid Content-Length.",
                             code, _CLOSE)
            return
        trust = self.settings.trust_forwarded
        headers, request_id = upstream_headers(scope, host, trust)
        legacy = self.upstreams[table.legacy]
        serve, fallback, mirror = legacy, None, False
        mode = spec.mode
        if mode is Mode.SHADOW:
            mirror = route.shadows(method) and self.shadow.admit(route)
            if mirror:  # the WAL position legacy's answer reflects, for the shadow worker's CDC wait
                headers = [*headers, WANT_WAL_LSN]
        elif mode is Mode.CANARY:
            kind, key = sticky_key(scope["headers"], client_address(scope, trust), tuple(table.document.canary.cookies))
            on_new = on_new_side(f"{kind}:{key}", spec.percent, spec.target)
            self.metrics.canary.labels(route.name, "new" if on_new else "legacy", kind).inc()
            if on_new:
                serve = self.upstreams[spec.target]
                fallback = legacy if spec.fallback and method in SAFE_METHODS else None
        elif mode is not Mode.LEGACY:
            serve = self.upstreams[spec.target]
            fallback = legacy if mode is Mode.NEW and spec.fallback and method in SAFE_METHODS else None

        sample = spec.corpus.sample  # regression corpus (proxy/corpus/): one float test when off
        record = sample > 0.0 and random.random() < sample
        if (mirror or fallback is not None or record) and not body.replayable:
            try:
                buffered = await body.buffer(self.settings.replay_body_bytes)
            except BodyTooLarge:
                await self._refuse_body(send)
                return
            if not buffered:
                if mirror:
                    self.shadow.skip(route, {"method": method, "path": scope["path"], "request_id": request_id},
                                     "request body larger than the replay limit")
                mirror, fallback = False, None

        tee = ResponseTee(self.settings.shadow_max_body_bytes) if mirror else None
        status, answered_by = await self._exchange(route, method, scope, headers, body, send, serve, fallback, tee)
        elapsed = time.perf_counter() - started

        status_class = self.metrics.status_class(status)
        self.metrics.observe_request(route.name, answered_by, status_class, elapsed)
        if self.access_log is not None:
            self.access_log.request(method, scope["path"], status, route.name, answered_by, round(elapsed * 1000, 3),
                                    request_id, scope["client"][0] if scope.get("client") else None)
        if mirror:
            self._mirror(route, method, scope, headers, body, request_id, tee, answered_by, table, elapsed)
        if record:
            self.corpus.take(route.name, method, scope["path"], scope["query_string"], headers, body.buffered,
                             status, answered_by, request_id,
                             None if body.replayable else "larger than PROXY_REPLAY_BODY_BYTES")

    async def _exchange(self, route: Route, method, scope, headers, body, send, serve, fallback, tee):
        """Answer from `serve`, or from `fallback` when `serve` fails before answering; returns
        (status sent to the client, upstream that answered)."""
        while True:
            try:
                response = await self.forwarder.open(serve, method, scope, headers, body)
            except BodyTooLarge:
                await self._refuse_body(send)
                return 413, serve.name
            except UpstreamFailure as failure:
                if fallback is not None:
                    self.metrics.fallbacks.labels(route.name, failure.kind).inc()
                    serve, fallback = fallback, None
                    continue
                log.warning("upstream failed", extra={"route": route.name, "upstream": serve.name,
                                                      "kind": failure.kind, "detail": failure.detail})
                retry_after = ((b"retry-after", b"5"),) if failure.kind == "breaker_open" else ()
                await send_error(send, failure.status, MESSAGES[failure.status], failure.kind, retry_after)
                return failure.status, serve.name
            if fallback is not None and response.status >= 500:
                response.release()
                self.metrics.fallbacks.labels(route.name, f"status_{response.status}").inc()
                serve, fallback = fallback, None
                continue
            await self.forwarder.relay(response, send, method, tee)
            return response.status, serve.name

    async def _refuse_body(self, send) -> None:
        self.metrics.rejected.labels("body_too_large").inc()
        await send_error(send, 413, None, "body_too_large", _CLOSE)

    def _mirror(self, route: Route, method, scope, headers, body, request_id, tee: ResponseTee,
                answered_by: str, table: RouteTable, elapsed: float) -> None:
        """Hand the finished exchange to the shadow worker (the client already has its answer)."""
        if answered_by != table.legacy or tee.status == 0:
            self.shadow.skip(route, {"method": method, "path": scope["path"], "request_id": request_id},
                             "legacy did not answer")
            return
        if tee.overflow:
            self.shadow.skip(route, {"method": method, "path": scope["path"], "request_id": request_id},
                             "legacy response larger than the comparison limit")
            return
        self.shadow.submit(MirroredRequest(
            route.name, method, scope["path"], scope["raw_path"], scope["query_string"], headers,
            body.buffered or b"", request_id, tee.status, tee.headers, tee.body, elapsed * 1000))

    async def _before_swap(self, table: RouteTable) -> None:
        await self.upstreams.sync(table)
        self.shadow.publish_table(table)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("proxy failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await self.shadow.start()
        await self.reloader.load_initial()
        self.reloader.start(watch=settings.watch)
        self.upstreams.start_probes()
        self.loop_monitor.start()
        # Everything imported and built so far lives as long as the process: out of the collector's
        # sight, a full collection scans only what requests allocate (it scanned the whole heap,
        # tens of ms each, measured by proxy_gc_pause_seconds under shadow load).
        gc.collect()
        gc.freeze()
        log.info("proxy started", extra={"routes_file": str(settings.routes_file), "port": settings.port})

    async def shutdown(self) -> None:
        if self.access_log is not None:
            self.access_log.flush()
        self.loop_monitor.stop()
        self.corpus.close()
        await self.reloader.stop()
        await self.shadow.close()
        await self.upstreams.close()
