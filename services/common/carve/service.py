"""The skeleton of a carved service: create_app() plus what every carved domain has.

- the outbox filled from the ORM (outbox.install) and writes refused unless the service owns them
  (ownership.install_write_guard);
- the kit's internal endpoints (status.py);
- one rule for where the sync runs: the API serves requests in uvicorn's worker processes; the
  forward sync (CDC -> replica) and the reverse sync (outbox -> monolith) each run in a process of
  their own beside it, supervised as one unit by `python -m services.<domain>.run` (carve/run.py).
  Never inside the API workers: each worker would start its own consumer, and the consumer's
  collector tuning (gc.freeze) is process-wide."""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

from fastapi import APIRouter, FastAPI
from starlette.requests import Request

from services.common.app import create_app
from services.common.carve import metrics, outbox
from services.common.carve.declaration import Domain
from services.common.carve.ownership import install_write_guard
from services.common.carve.status import internal_router

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def session_dependency(database: Callable):
    """FastAPI dependency: a session on the service's database; autocommit for safe methods."""
    async def db_session(request: Request):
        async for session in database().session(read_only=request.method in SAFE_METHODS):
            yield session

    return db_session


def carve_app(domain: Domain, settings: Callable, database: Callable, authenticator: Callable,
              routers: Sequence[APIRouter], *, public_prefixes: Iterable[str], url_bases: Iterable[str],
              session=None, readiness: dict | None = None, lifespan=None) -> FastAPI:
    outbox.install(domain)
    install_write_guard(domain)
    metrics.register(domain, settings)

    async def database_ready():
        await database().ping()

    internal = internal_router(domain, settings, session or session_dependency(database), authenticator)
    return create_app(settings(), [*routers, internal], public_prefixes=public_prefixes, url_bases=url_bases,
                      readiness={"database": database_ready, **(readiness or {})}, lifespan=lifespan)
