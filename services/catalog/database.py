"""The catalog's declarative Base and the process-wide Database."""
from __future__ import annotations

from functools import lru_cache

from starlette.requests import Request

from services.catalog.config import get_settings
from services.common.database import Database, declarative_base

Base = declarative_base()


@lru_cache(maxsize=1)
def database() -> Database:
    settings = get_settings()
    return Database(settings.database_url, pool_size=settings.database_pool_size)


async def db_session(request: Request):
    """FastAPI dependency: a session on the catalog database; autocommit for safe methods (reads)."""
    async for session in database().session(read_only=request.method in ("GET", "HEAD", "OPTIONS")):
        yield session
