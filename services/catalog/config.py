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


@lru_cache(maxsize=1)
def get_settings() -> CatalogSettings:
    """Read once per process (reading the environment is costly on a per-request path);
    tests that change the environment call get_settings.cache_clear()."""
    return CatalogSettings()
