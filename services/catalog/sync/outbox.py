"""The outbox: every write the service makes to the catalog tables is recorded here in the same
transaction, so the reverse sync can replay it into the monolith's tables (see sync/reverse.py).

Rows written by the CDC apply (monolith -> service) never go through here, which is half of what keeps
changes from looping; the other half is echo suppression in sync/forward.py, which recognises the
monolith transactions the reverse sync made (recorded in catalog_outbox_echo) in the CDC stream."""
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
        Index("catalog_outbox_applied_idx", "applied_at", postgresql_where="applied_at IS NOT NULL"),  # pruning
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(63))
    row_id: Mapped[int] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(String(8))              # "upsert" | "delete"
    row: Mapped[Optional[dict]] = mapped_column(JSONB, nullable=True)
    # The row as the service had it before this write; the reverse sync's compare-and-set guard for
    # tables without updated_at (genres). None for inserts and deletes.
    before: Mapped[Optional[dict]] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    applied_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
    # Set when the monolith's CDC event caused by applying this entry came back (see sync/forward.py),
    # or when applying it changed nothing in the monolith, so no event will come back.
    echoed: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxEcho(Base):
    """The monolith transaction that replayed an outbox entry: its CDC events carry this xid (as
    source.txId), which is how the forward sync tells the service's own writes coming back from
    genuine monolith changes. Written and committed before that transaction commits, so an echo can
    never arrive unrecognised; a retried entry gets one row per attempt."""
    __tablename__ = "catalog_outbox_echo"

    # 32-bit xid, as Debezium reports it (it wraps after ~4e9 monolith transactions, hence not unique)
    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(63))
    row_id: Mapped[int] = mapped_column(BigInteger)
    # When the forward apply first saw this transaction's event; the marker is pruned a grace
    # period later (see sync/forward.py). NULL while the echo has not come back.
    seen_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_values(obj) -> dict:
    """All column values of a mapped object, JSON-ready."""
    return {c.key: _jsonable(getattr(obj, c.key)) for c in obj.__table__.columns}


def record_upsert(session: AsyncSession, obj, before: Optional[dict] = None) -> None:
    session.add(OutboxEntry(table_name=obj.__tablename__, row_id=obj.id, op="upsert", row=row_values(obj),
                            before=before))


def record_delete(session: AsyncSession, table_name: str, row_id: int) -> None:
    session.add(OutboxEntry(table_name=table_name, row_id=row_id, op="delete", row=None))
