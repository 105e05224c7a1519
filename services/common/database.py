"""SQLAlchemy 2 async engine and sessions (psycopg 3) for a service's own database."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic autogenerate and hand-written migrations agree.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def declarative_base() -> type[DeclarativeBase]:
    """A fresh declarative Base per service (each service owns its metadata and migrations)."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    return Base


def async_url(url: str) -> str:
    """Accept plain postgresql:// URLs (what the stack hands out) and use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def one_row(cursor) -> tuple:
    """The row of a psycopg query that always returns one (an aggregate, a function call)."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return row


def plain_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL, for psycopg.connect()."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


class Database:
    """One engine + session factory per process."""

    def __init__(self, url: str, pool_size: int = 10, echo: bool = False):
        self.engine: AsyncEngine = create_async_engine(
            async_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False, echo=echo,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Same pool; each statement commits on its own, so a read needs no BEGIN / ROLLBACK round trips.
        self.read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    async def session(self, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """FastAPI dependency: one session per request, closed afterwards. `read_only` sessions run
        every statement in its own transaction (autocommit): for requests that only read."""
        async with (self.read_sessions if read_only else self.sessions)() as session:
            yield session

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection in autocommit, for hot read paths that run Core statements only: no
        Session (its ORM execution layer costs more per statement than a short indexed query)."""
        async with self.read_engine.connect() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
