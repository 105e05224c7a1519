"""The kit's tables in a service's own database, one set per domain (named `<domain>_<role>`):

- `<domain>_outbox`: every service write to a writable table, recorded in the write's transaction
  (outbox.py) and replayed into the monolith (reverse_sync.py); an entry that cannot be applied is
  parked with its reason and retried later, holding back only later entries of the same row;
- `<domain>_outbox_echo`: the monolith transactions that replayed entries, by xid, so the forward
  sync recognises their CDC events as echoes (forward_sync.py);
- `<domain>_sync_state`: the last source LSN applied, for sync status;
- `<domain>_write_owner`: who accepts the domain's writes right now (ownership.py).

The data-version table and its triggers are plain SQL (migrations.py)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.carve.declaration import Domain

MONOLITH = "monolith"
SERVICE = "service"


@dataclass(frozen=True)
class SyncModels:
    outbox: Any
    echo: Any
    state: Any
    owner: Any


_MODELS: dict[int, SyncModels] = {}


def sync_models(domain: Domain) -> SyncModels:
    """The mapped classes of the domain's sync tables, created once in the domain's Base."""
    models = _MODELS.get(id(domain.base))
    if models is None:
        models = _MODELS[id(domain.base)] = _define(domain)
    return models


def _define(domain: Domain) -> SyncModels:
    base: Any = domain.base     # each service's own declarative Base
    name = domain.sync_table

    class OutboxEntry(base):
        __tablename__ = name("outbox")
        __table_args__ = (
            Index(f"{name('outbox')}_pending_idx", "id", postgresql_where="applied_at IS NULL"),
            Index(f"{name('outbox')}_row_idx", "table_name", "row_id"),
            Index(f"{name('outbox')}_applied_idx", "applied_at", postgresql_where="applied_at IS NOT NULL"),
            Index(f"{name('outbox')}_parked_idx", "table_name", "row_id",
                  postgresql_where="applied_at IS NULL AND parked_at IS NOT NULL"),
        )

        id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
        table_name: Mapped[str] = mapped_column(String(63))
        row_id: Mapped[int] = mapped_column(BigInteger)
        op: Mapped[str] = mapped_column(String(8))              # "upsert" | "delete"
        row: Mapped[Optional[dict]] = mapped_column(JSONB, nullable=True)
        # The row before this write: the compare-and-set guard for tables without updated_at.
        before: Mapped[Optional[dict]] = mapped_column(JSONB, nullable=True)
        created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
        applied_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
        # Set when the replay's CDC event came back, or when the replay changed nothing.
        echoed: Mapped[bool] = mapped_column(Boolean, default=False)
        attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
        # A replay the monolith refused: why, since when, and when it is tried again.
        parked_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
        park_reason: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
        next_attempt_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)

    class OutboxEcho(base):
        """The monolith transaction that replayed an entry, by its 32-bit xid (Debezium's
        source.txId); committed before that transaction commits, so an echo is never missed."""
        __tablename__ = name("outbox_echo")

        xid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
        outbox_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
        table_name: Mapped[str] = mapped_column(String(63))
        row_id: Mapped[int] = mapped_column(BigInteger)
        seen_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)

    class SyncState(base):
        __tablename__ = name("sync_state")

        source: Mapped[str] = mapped_column(String(63), primary_key=True)     # "monolith"
        last_lsn: Mapped[int] = mapped_column(BigInteger, default=0)
        last_source_ts: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
        updated_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True), nullable=True)

    class WriteOwner(base):
        """One row: who accepts this domain's writes. Absent means the monolith."""
        __tablename__ = name("write_owner")

        domain: Mapped[str] = mapped_column(String(63), primary_key=True)
        owner: Mapped[str] = mapped_column(String(16))          # "monolith" | "service"
        changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
        changed_by: Mapped[str] = mapped_column(String(200), default="")

    return SyncModels(OutboxEntry, OutboxEcho, SyncState, WriteOwner)
