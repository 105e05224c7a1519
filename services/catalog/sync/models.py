"""How far the service's copy has caught up with the monolith (written by the CDC apply)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.database import Base


class SyncState(Base):
    __tablename__ = "catalog_sync_state"

    source: Mapped[str] = mapped_column(String(63), primary_key=True)     # e.g. "monolith"
    # Highest source LSN (pg_lsn as a number) whose changes are committed here.
    last_lsn: Mapped[int] = mapped_column(BigInteger, default=0)
    last_source_ts: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)


def lsn_to_int(lsn: str) -> int:
    """'16/B374D848' -> integer, the form Debezium puts in source.lsn."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def int_to_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"
