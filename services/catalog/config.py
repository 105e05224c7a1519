"""Catalog service settings (environment variables, defaults for the local stack): the kit's
(CATALOG_DATABASE_URL, MONOLITH_DATABASE_URL, CATALOG_CDC_GROUP, CATALOG_OUTBOX_RETENTION_HOURS, ...)."""
from __future__ import annotations

from functools import lru_cache

from services.common.carve.settings import carve_settings

CatalogSettings = carve_settings("catalog")


@lru_cache(maxsize=1)
def get_settings() -> CatalogSettings:
    """Read once per process (reading the environment is costly on a per-request path);
    tests that change the environment call get_settings.cache_clear()."""
    return CatalogSettings()
