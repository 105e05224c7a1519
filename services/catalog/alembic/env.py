"""Alembic environment: the catalog's metadata and CATALOG_DATABASE_URL (synchronous psycopg 3)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from services.catalog.config import get_settings
from services.catalog.models import Base
from services.common.database import async_url

target_metadata = Base.metadata


def run_migrations() -> None:
    url = context.config.attributes.get("database_url") or get_settings().database_url
    engine = create_engine(async_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
