"""The outbox: every write the service makes to the catalog tables is recorded here in the same
transaction, so the reverse sync can replay it into the monolith's tables (see sync/reverse.py).

Rows written by the CDC apply (monolith -> service) never go through here, which is half of what keeps
changes from looping; the other half is echo suppression in sync/forward.py."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import BigInteger, Boolean, DateTime, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.database import Base


class OutboxEntry(Base):
    __tablename__ = "catalog_outbox"
    __table_args__ = (
        Index("catalog_outbox_pending_idx", "id", postgresql_where="applied_at IS NULL"),
        Index("catalog_outbox_row_idx", "table_name", "row_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(63))
    row_id: Mapped[int] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(String(8))              # "upsert" | "delete"
    row: Mapped[Optional[dict]] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    applied_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
    # Set when the monolith's CDC event caused by applying this entry came back (see sync/forward.py).
    echoed: Mapped[bool] = mapped_column(Boolean, default=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_values(obj) -> dict:
    """All column values of a mapped object, JSON-ready."""
    return {c.key: _jsonable(getattr(obj, c.key)) for c in obj.__table__.columns}


def record_upsert(session: AsyncSession, obj) -> None:
    session.add(OutboxEntry(table_name=obj.__tablename__, row_id=obj.id, op="upsert", row=row_values(obj)))


def record_delete(session: AsyncSession, table_name: str, row_id: int) -> None:
    session.add(OutboxEntry(table_name=table_name, row_id=row_id, op="delete", row=None))
