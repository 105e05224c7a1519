"""The catalog's declarative Base and the process-wide Database."""
from __future__ import annotations

from functools import lru_cache

from services.catalog.config import get_settings
from services.common.carve.service import session_dependency
from services.common.database import Database, declarative_base

Base = declarative_base()


@lru_cache(maxsize=1)
def database() -> Database:
    settings = get_settings()
    return Database(settings.database_url, pool_size=settings.database_pool_size)


db_session = session_dependency(database)
