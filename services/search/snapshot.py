"""Refresh the replica from one consistent snapshot of the monolith's tables.

This is the one place the search service reads the monolith's database, and only for a rebuild
(like Debezium's own initial snapshot, which reads the same tables): day to day it learns
everything from the topics. The snapshot runs in one REPEATABLE READ transaction and every row is
written with the WAL position of that snapshot as its LSN, so the LSN guard orders it correctly
against the live stream: newer events win, older ones are ignored. Rows the replica still has but
the snapshot does not (deleted while no one was listening) become tombstones.
"""
from __future__ import annotations

from typing import Optional

import psycopg
from psycopg.rows import dict_row

from services.search.apply_change import RowChange, SearchIndexer
from services.search.replica import TABLES, Replica

# Only the columns documents use (never accounts_user.password, which the CDC topics exclude too).
SNAPSHOT_COLUMNS = {
    "catalog_genre": "id, name, slug",
    "catalog_artist": "id, user_id, name, bio, country, image_url, created_at, updated_at",
    "catalog_album": "id, artist_id, title, release_date, cover_image_url, created_at, updated_at",
    "catalog_track": ("id, title, artist_id, album_id, genre_id, duration_ms, popularity, tempo, energy, valence, "
                      "price, file_path, created_at, updated_at"),
    "content_post": "id, author_id, title, body, is_published, published_at",
    "accounts_user": "id, username",
    "accounts_profile": "id, user_id, display_name",
}
ENTITY = {"catalog_genre": "genre", "catalog_artist": "artist", "catalog_album": "album", "catalog_track": "track",
          "content_post": "post", "accounts_user": "user", "accounts_profile": "profile"}


def load_snapshot(replica: Replica, source_url: Optional[str] = None, progress: bool = True, batch: int = 5000) -> int:
    import os

    from services.search.rebuild import progress_bar

    url = source_url or os.environ.get("MONOLITH_DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/vobemusic")
    indexer = SearchIndexer(replica, backend=None)
    total = 0
    with psycopg.connect(url) as conn, progress_bar(progress) as bar:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot_lsn = int(conn.execute("SELECT pg_current_wal_lsn() - '0/0'").fetchone()[0])
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in SNAPSHOT_COLUMNS}
        for table, columns in SNAPSHOT_COLUMNS.items():
            task = bar.add_task(f"snapshot {table}", total=counts[table])
            seen: set[int] = set()
            with conn.cursor(name=f"snapshot_{table}", row_factory=dict_row) as cursor:
                cursor.itersize = batch
                cursor.execute(f"SELECT {columns} FROM {table} ORDER BY id")
                while rows := cursor.fetchmany(batch):
                    indexer.apply([RowChange(table, r["id"], r, snapshot_lsn) for r in rows], update_index=False)
                    seen.update(r["id"] for r in rows)
                    bar.advance(task, len(rows))
            total += len(seen)
            _tombstone_missing(replica, indexer, table, seen, snapshot_lsn)
    return total


def _tombstone_missing(replica: Replica, indexer: SearchIndexer, table: str, seen: set[int], lsn: int) -> None:
    with replica.engine.connect() as conn:
        gone = [pk for pk in replica.entities_with_lsn_below(conn, ENTITY[table], lsn) if pk not in seen]
    if gone:
        indexer.apply([RowChange(table, pk, None, lsn) for pk in gone], update_index=False)


assert set(ENTITY.values()) == set(TABLES)
