"""Refresh the replica from one consistent snapshot of the monolith's tables.

This is the one place the search service reads the monolith's database, and only for a rebuild
(like Debezium's own initial snapshot, which reads the same tables): day to day it learns
everything from the topics. The snapshot runs in one REPEATABLE READ transaction and every row is
written with the WAL position of that snapshot as its LSN, so the LSN guard orders it correctly
against the live stream: newer events win, older ones are ignored. The snapshot starts while no
writer of these tables is in flight (the carve kit's consistent_snapshot: a transaction still open
at that moment would stream changes with LSNs below the snapshot's that the snapshot cannot see). Rows the replica still has but
the snapshot does not (deleted while no one was listening) become tombstones.
"""
from __future__ import annotations

from typing import Optional

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from services.common.carve.snapshot import consistent_snapshot
from services.search.apply_change import RowChange, SearchIndexer
from services.search.progress import progress_bar
from services.search.replica import Replica
from services.search.sources import SOURCES, Source


def load_snapshot(replica: Replica, source_url: Optional[str] = None, progress: bool = True, batch: int = 5000) -> int:
    import os

    url = source_url or os.environ.get("MONOLITH_DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/vobemusic")
    indexer = SearchIndexer(replica, backend=None)
    total = 0
    with psycopg.connect(url) as conn, psycopg.connect(url, autocommit=True) as fence, progress_bar(progress) as bar:
        snapshot_lsn = consistent_snapshot(conn, fence, [s.table for s in SOURCES])
        counts = {s.table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(s.table))).fetchone()[0]
                  for s in SOURCES}
        for source in SOURCES:
            table = source.table
            task = bar.add_task(f"snapshot {table}", total=counts[table])
            seen: set[int] = set()
            with conn.cursor(name=f"snapshot_{table}", row_factory=dict_row) as cursor:
                cursor.itersize = batch
                cursor.execute(_select(source))
                while rows := cursor.fetchmany(batch):
                    indexer.apply([RowChange(table, r["id"], r, snapshot_lsn) for r in rows], update_index=False)
                    seen.update(r["id"] for r in rows)
                    bar.advance(task, len(rows))
            total += len(seen)
            _tombstone_missing(replica, indexer, source, seen, snapshot_lsn)
    return total


def _select(source: Source) -> sql.Composed:
    return sql.SQL("SELECT {} FROM {} ORDER BY id").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in source.columns), sql.Identifier(source.table))


def _tombstone_missing(replica: Replica, indexer: SearchIndexer, source: Source, seen: set[int], lsn: int) -> None:
    with replica.engine.connect() as conn:
        gone = [pk for pk in replica.entities_with_lsn_below(conn, source.entity, lsn) if pk not in seen]
    if gone:
        indexer.apply([RowChange(source.table, pk, None, lsn) for pk in gone], update_index=False)
