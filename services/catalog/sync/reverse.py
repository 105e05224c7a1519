"""Service -> monolith: replay the outbox into the monolith's catalog tables once catalog writes
are served by the service, so monolith code that still reads them (playlists, history, search
indexing, admin) sees every change, and a flip back to legacy loses nothing.

- entries are applied in outbox order, each in one monolith transaction, then marked applied;
- an upsert only overwrites a monolith row whose updated_at is not newer (a monolith write made
  after a flip back wins over an older service write still in the outbox);
- every insert moves the monolith's id sequence past the id, so monolith inserts after a flip back
  never collide with ids the service handed out.

Run beside the API:  python -m services.catalog.sync.reverse
"""
from __future__ import annotations

import logging
import time

import psycopg
from psycopg import sql

from services.catalog.config import get_settings
from services.catalog.sync.snapshot import TABLES, plain_url

log = logging.getLogger("catalog.sync.reverse")
WRITABLE = {"catalog_genre", "catalog_artist", "catalog_album", "catalog_track"}


def _upsert(conn, table: str, row: dict) -> None:
    columns = [c for c in TABLES[table][1] if c in row]
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    values = sql.SQL(", ").join(sql.Placeholder(c) for c in columns)
    updates = sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns if c != "id")
    guard = sql.SQL(" WHERE {t}.updated_at <= excluded.updated_at").format(t=sql.Identifier(table)) \
        if "updated_at" in columns else sql.SQL("")
    conn.execute(sql.SQL("INSERT INTO {t} ({n}) VALUES ({v}) ON CONFLICT (id) DO UPDATE SET {u}{g}").format(
        t=sql.Identifier(table), n=names, v=values, u=updates, g=guard), row)
    conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), GREATEST(%(id)s, "
                         "(SELECT last_value FROM {s})))").format(
        t=sql.Literal(table), s=sql.Identifier(f"{table}_id_seq")), {"id": row["id"]})


def apply_pending(catalog_url: str, monolith_url: str, batch: int = 500) -> int:
    """Apply up to `batch` pending outbox entries; returns how many were applied."""
    with psycopg.connect(plain_url(catalog_url)) as service, psycopg.connect(plain_url(monolith_url)) as monolith:
        entries = service.execute(
            "SELECT id, table_name, row_id, op, row FROM catalog_outbox WHERE applied_at IS NULL "
            "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (batch,)).fetchall()
        for entry_id, table, row_id, op, row in entries:
            if table not in WRITABLE:
                continue
            with monolith.transaction():
                if op == "delete":
                    monolith.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(table)), (row_id,))
                else:
                    _upsert(monolith, table, row)
        if entries:
            service.execute("UPDATE catalog_outbox SET applied_at = now() WHERE id = ANY(%s)",
                            ([e[0] for e in entries],))
        service.commit()
        return len(entries)


def main() -> None:
    from services.common.observability import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    while True:
        try:
            if apply_pending(settings.database_url, settings.monolith_database_url) == 0:
                time.sleep(0.05)
        except psycopg.Error:
            log.exception("reverse sync failed; retrying")
            time.sleep(1)


if __name__ == "__main__":
    main()
