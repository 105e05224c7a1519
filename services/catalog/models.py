"""Every table of the catalog database, imported in one place for Alembic."""
from services.catalog.domain import DOMAIN
from services.common.carve.sync_tables import sync_models

Base = DOMAIN.base
SYNC = sync_models(DOMAIN)
