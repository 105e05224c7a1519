"""Copy the monolith's catalog tables (and the user roles) into the service database in one go.

CDC normally delivers the initial snapshot (Debezium's snapshot mode). This is the fast path for a
first load of a large catalogue (COPY between the two databases), for rebuilding a replica, and for
tests: afterwards CDC only has to deliver changes from the LSN recorded here.

    python -m services.catalog.sync.snapshot --source postgresql://.../vobemusic --target postgresql://.../catalog
    python -m services.catalog.sync.snapshot --align-sequences      # only the sequences (write cutover)
"""
from __future__ import annotations

import argparse
import datetime as dt

import psycopg

from services.catalog.sync.models import lsn_to_int

# service table -> (monolith table, columns copied)
TABLES = {
    "account_user": ("accounts_user", ["id", "role", "is_staff", "is_active"]),
    "catalog_genre": ("catalog_genre", ["id", "name", "slug", "description"]),
    "catalog_artist": ("catalog_artist", ["id", "user_id", "name", "bio", "country", "image_url",
                                          "created_at", "updated_at"]),
    "catalog_album": ("catalog_album", ["id", "artist_id", "title", "release_date", "cover_image_url",
                                        "created_at", "updated_at"]),
    "catalog_track": ("catalog_track", ["id", "title", "artist_id", "album_id", "genre_id", "duration_ms",
                                        "popularity", "tempo", "energy", "valence", "price", "file_path",
                                        "created_at", "updated_at"]),
}


def plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def copy_snapshot(source_url: str, target_url: str) -> dict[str, int]:
    """Replace the target's rows with the source's, in one repeatable-read snapshot of the source;
    records the source LSN of that snapshot as the sync position. Returns rows per table."""
    counts = {}
    with psycopg.connect(plain_url(source_url)) as src, psycopg.connect(plain_url(target_url)) as dst:
        src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        lsn = src.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        dst.execute("TRUNCATE " + ", ".join(TABLES))
        for target, (source, columns) in TABLES.items():
            cols = ", ".join(columns)
            with src.cursor().copy(f"COPY (SELECT {cols} FROM {source}) TO STDOUT (FORMAT BINARY)") as out, \
                    dst.cursor().copy(f"COPY {target} ({cols}) FROM STDIN (FORMAT BINARY)") as into:
                for chunk in out:
                    into.write(chunk)
            counts[target] = dst.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        align_sequences(dst)
        dst.execute(
            "INSERT INTO catalog_sync_state (source, last_lsn, updated_at) VALUES ('monolith', %s, %s) "
            "ON CONFLICT (source) DO UPDATE SET last_lsn = excluded.last_lsn, updated_at = excluded.updated_at",
            (lsn_to_int(lsn), dt.datetime.now(dt.timezone.utc)),
        )
        dst.commit()
        src.rollback()
    return counts


def align_sequences(conn) -> None:
    """Move each id sequence past the highest id present, so the service's own inserts never reuse a
    replicated primary key."""
    for table in ("catalog_genre", "catalog_artist", "catalog_album", "catalog_track"):
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST((SELECT COALESCE(max(id), 0) FROM {table}), "
            f"(SELECT last_value FROM {table}_id_seq)), true)"
        )


def main() -> None:
    from services.catalog.config import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=settings.monolith_database_url)
    parser.add_argument("--target", default=settings.database_url)
    parser.add_argument("--align-sequences", action="store_true",
                        help="only move the target's id sequences past the highest ids (write cutover step)")
    args = parser.parse_args()
    if args.align_sequences:
        with psycopg.connect(plain_url(args.target)) as conn:
            align_sequences(conn)
        print("sequences aligned")
        return
    for table, count in copy_snapshot(args.source, args.target).items():
        print(f"{table}: {count} rows")


if __name__ == "__main__":
    main()
