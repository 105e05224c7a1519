"""Catalog service settings (environment variables, defaults for the local stack)."""
from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field

from services.common.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    service_name: str = "catalog"
    database_url: str = Field(
        "postgresql+psycopg://postgres@127.0.0.1:55432/catalog",
        validation_alias=AliasChoices("CATALOG_DATABASE_URL", "database_url"),
    )
    # The monolith's database: target of the reverse sync once catalog writes are cut over.
    monolith_database_url: str = Field(
        "postgresql://postgres@127.0.0.1:55432/vobemusic",
        validation_alias=AliasChoices("MONOLITH_DATABASE_URL", "monolith_database_url"),
    )
    # Outbox entries replayed into the monolith are kept this long (for audits and for tracing a
    # row's history), then deleted by the reverse sync; pending entries are never deleted.
    outbox_retention_hours: float = Field(
        168, ge=0, validation_alias=AliasChoices("CATALOG_OUTBOX_RETENTION_HOURS", "outbox_retention_hours"))


@lru_cache(maxsize=1)
def get_settings() -> CatalogSettings:
    """Read once per process (reading the environment is costly on a per-request path);
    tests that change the environment call get_settings.cache_clear()."""
    return CatalogSettings()
