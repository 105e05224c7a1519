"""Bookkeeping tables a consumer keeps in its own target database, next to the data it applies:

- cdc_row_position: the source LSN last applied to each target row (kept after a delete, so a
  late, older event cannot resurrect the row). Ordering is per row: Postgres row locks serialise
  writers of one row, so LSN order is commit order for that row.
- cdc_consumer_progress: per consumer and topic partition, the last applied Kafka offset, source
  LSN and source commit time and the relay epoch it was read in: what `cdc lag --target` reports,
  and where a consumer resumes (committed with the data, so it never runs ahead of or behind the
  target; Kafka's committed offsets are kept too but Tansu drops commit metadata, so the epoch
  lives here)."""
from __future__ import annotations

from sqlalchemy import text, BigInteger, Boolean, Column, DateTime, Integer, MetaData, Table, Text, func
from sqlalchemy.engine import Engine

metadata = MetaData()

row_position = Table(
    "cdc_row_position", metadata,
    Column("target_table", Text, primary_key=True),
    Column("row_key", Text, primary_key=True),
    Column("lsn", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
)

consumer_progress = Table(
    "cdc_consumer_progress", metadata,
    Column("consumer", Text, primary_key=True),
    Column("topic", Text, primary_key=True),
    Column("kafka_partition", Integer, primary_key=True),
    Column("kafka_offset", BigInteger, nullable=False),
    Column("lsn", BigInteger),
    Column("source_ts_ms", BigInteger),
    Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("epoch", Text),
)


def ensure_tables(engine: Engine) -> None:
    """Create the bookkeeping tables if missing (services may also own them in their Alembic history)."""
    metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:   # tables created before the epoch column existed
        conn.execute(text("ALTER TABLE cdc_consumer_progress ADD COLUMN IF NOT EXISTS epoch text"))
