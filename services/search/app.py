"""The search service's FastAPI application: the search endpoints, the probes, and the CDC apply
loop running beside them in the same process (the loop is the index's only writer)."""
from __future__ import annotations

import asyncio
import hmac
from contextlib import asynccontextmanager
from typing import Callable, Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.common.app import create_app
from services.search import views
from services.search.apply_change import SearchIndexer
from services.search.backends import backend_from_settings
from services.search.index_backend import SearchBackend
from services.search.replica import Replica
from services.search.settings import SearchSettings, sync_url

# (settings, indexer) -> an object with start() / stop() / problem() (see cdc_consumer.py)
FeedFactory = Callable[[SearchSettings, SearchIndexer], object]


def build_app(settings: Optional[SearchSettings] = None, backend: Optional[SearchBackend] = None,
              replica: Optional[Replica] = None, feed_factory: Optional[FeedFactory] = None) -> FastAPI:
    settings = settings or SearchSettings()
    backend = backend or backend_from_settings(settings)
    replica = replica or Replica(sync_url(settings.database_url))
    indexer = SearchIndexer(replica, backend)
    if feed_factory is None and settings.consume_cdc:
        from services.search.cdc_consumer import ChangeFeed as feed_factory  # noqa: N813
    state = {"feed": None}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await asyncio.to_thread(replica.create_schema)
        await asyncio.to_thread(backend.open)
        if feed_factory is not None:
            state["feed"] = feed_factory(settings, indexer)
            state["feed"].start()
        try:
            yield
        finally:
            if state["feed"] is not None:
                await asyncio.to_thread(state["feed"].stop)
            await asyncio.to_thread(backend.close)

    async def index_ready():
        return None if backend.ready() else f"{backend.name} index not open"

    async def replica_ready():
        await asyncio.to_thread(replica.ping)

    async def feed_ready():
        return None if state["feed"] is None else state["feed"].problem()

    app = create_app(
        settings, [views.router], public_prefixes=[views.PREFIX], url_bases=views.URL_BASES,
        readiness={"index": index_ready, "replica": replica_ready, "cdc": feed_ready}, lifespan=lifespan,
    )
    @app.get("/internal/sync-status", include_in_schema=False)
    async def sync_status(request: Request, position: bool = False):
        """The CDC feed's status and, with `position=true`, its applied position (the carve kit's
        rule: services/common/carve/position.py), what CDC-aware shadowing waits on
        (proxy/shadow/cdc_wait.py). X-Internal-Token required."""
        given = request.headers.get("x-internal-token") or ""
        if not (settings.internal_token and hmac.compare_digest(settings.internal_token, given)):
            return JSONResponse({"detail": "Authentication credentials were not provided."}, status_code=401)
        feed = state["feed"]
        body: dict = {"domain": "search", "consumer": feed.status() if feed is not None and hasattr(feed, "status")
                      else None}
        if position:
            if feed is None or not hasattr(feed, "position"):
                return JSONResponse({"detail": "no CDC feed in this process"}, status_code=503)
            body["position"] = await asyncio.to_thread(feed.position, settings)
        return body

    app.state.settings = settings
    app.state.search_backend = backend
    app.state.indexer = indexer
    return app


def main() -> None:
    """Entry point for `python -m services.search.app` (the stack runs it under uvicorn)."""
    import os

    import uvicorn

    uvicorn.run(build_app(), host=os.environ.get("SEARCH_HOST", "127.0.0.1"),
                port=int(os.environ.get("SEARCH_PORT", "8102")), log_config=None)


if __name__ == "__main__":
    main()
