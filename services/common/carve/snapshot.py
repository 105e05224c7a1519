"""The bootstrap of a domain's replica: one consistent copy of the monolith's declared tables, the
CDC positions seeded from it, the id sequences aligned.

Consistency with the stream: every copied row gets the snapshot's WAL position as its LSN
position (cdc_row_position), so the consumer's guard skips the older events a fresh consumer
group reads from the topics instead of replaying them over newer rows. That is only right if no
transaction that wrote these tables was in flight when the snapshot was taken (its changes would
carry LSNs below the snapshot's yet be invisible to it). So a second connection takes a SHARE
lock on the tables, which waits for in-flight writers and holds new ones back for the moment the
snapshot takes; it is released at once, before the copy starts.

    python -m services.<domain>.sync snapshot      # via carve.cli
"""
from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql
from sqlalchemy import create_engine

from cdc.consumer.bookkeeping import ensure_tables
from services.common.carve.declaration import Domain
from services.common.database import one_row, async_url, plain_url

LOCK_TIMEOUT = "5s"


def consistent_snapshot(src: psycopg.Connection, fence: psycopg.Connection, tables: list[str]) -> int:
    """Start `src`'s REPEATABLE READ snapshot while no writer of `tables` is in flight; returns its
    LSN (see the module docstring). `fence` is a second, autocommit connection to the same database."""
    fence.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    with fence.transaction():
        fence.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.SQL(", ").join(map(sql.Identifier, tables))))
        src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return int(one_row(src.execute("SELECT pg_current_wal_lsn() - '0/0'"))[0])


def copy_snapshot(domain: Domain, source_url: str, target_url: str) -> dict[str, int]:
    """Replace the target's copies of the domain's tables with the source's; returns rows per table."""
    ensure_tables(create_engine(async_url(target_url)))
    counts: dict[str, int] = {}
    sources = [t.source for t in domain.tables]
    with psycopg.connect(plain_url(source_url)) as src, psycopg.connect(plain_url(source_url), autocommit=True) as fence, \
            psycopg.connect(plain_url(target_url)) as dst:
        lsn = consistent_snapshot(src, fence, sources)
        targets = [t.target for t in domain.tables]
        dst.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, targets))))
        dst.execute("DELETE FROM cdc_row_position WHERE target_table = ANY(%s)", (targets,))
        for table in domain.tables:
            cols = sql.SQL(", ").join(map(sql.Identifier, table.column_names))
            with src.cursor().copy(sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT BINARY)").format(
                    cols, sql.Identifier(table.source))) as out, \
                    dst.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                        sql.Identifier(table.target), cols)) as into:
                for chunk in out:
                    into.write(chunk)
            # The row key the consumer records (cdc.consumer.mapping.row_key_text of a bigint id).
            dst.execute(sql.SQL("INSERT INTO cdc_row_position (target_table, row_key, lsn, deleted) "
                                "SELECT %s, id::text, %s, false FROM {}").format(sql.Identifier(table.target)),
                        (table.target, lsn))
            counts[table.target] = one_row(dst.execute(sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(table.target))))[0]
        align_sequences(domain, dst, src)
        state = sql.Identifier(domain.sync_table("sync_state"))
        dst.execute(sql.SQL(
            "INSERT INTO {} (source, last_lsn, updated_at) VALUES ('monolith', %s, %s) "
            "ON CONFLICT (source) DO UPDATE SET last_lsn = excluded.last_lsn, updated_at = excluded.updated_at").format(state),
            (lsn, dt.datetime.now(dt.timezone.utc)))
        dst.commit()
        src.rollback()
    return counts


def align_sequences(domain: Domain, service: psycopg.Connection, monolith: psycopg.Connection | None) -> dict[str, int]:
    """Move each of the service's id sequences to the greatest of its own position, the replica's
    highest id and the monolith sequence's last_value, so no id the monolith ever handed out
    (deleted rows included) is handed out again. Returns table -> the sequence's new position."""
    positions = {}
    for table in domain.sequenced:
        floor = 0
        if monolith is not None:
            floor = one_row(monolith.execute(sql.SQL("SELECT last_value FROM {}").format(
                sql.Identifier(f"{table.source}_id_seq"))))[0]
        positions[table.target] = one_row(service.execute(sql.SQL(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST(%s, (SELECT COALESCE(max(id), 0) FROM {t}), "
            "(SELECT last_value FROM {s})), true)").format(
            t=sql.Identifier(table.target), s=sql.Identifier(f"{table.target}_id_seq")),
            (table.target, floor)))[0]
    return positions


def align_monolith_sequences(domain: Domain, service: psycopg.Connection, monolith: psycopg.Connection) -> None:
    """The flip back's counterpart: the monolith's sequences past every id the service handed out."""
    for table in domain.sequenced:
        mine = one_row(service.execute(sql.SQL("SELECT last_value FROM {}").format(
            sql.Identifier(f"{table.target}_id_seq"))))[0]
        monolith.execute(sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST(%s, "
                                 "(SELECT last_value FROM {})), true)").format(
            sql.Identifier(f"{table.source}_id_seq")), (table.source, mine))
