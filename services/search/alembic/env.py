"""Alembic environment: the replica's metadata and SEARCH_DATABASE_URL (or a connection handed in by
Replica.create_schema)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from services.search.replica import metadata

target_metadata = metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from services.search.settings import SearchSettings, sync_url

    engine = create_engine(sync_url(SearchSettings().database_url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
