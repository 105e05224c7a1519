"""Service -> monolith: replay the outbox into the monolith's catalog tables once catalog writes
are served by the service, so monolith code that still reads them (playlists, history, search
indexing, admin) sees every change, and a flip back to legacy loses nothing.

- entries are applied in outbox order, each in one monolith transaction, then marked applied;
- before that transaction commits, its xid is recorded in catalog_outbox_echo (committed), so the
  forward sync recognises the CDC events it causes as echoes, and nothing else (sync/forward.py);
- an upsert never overwrites a newer monolith change (a monolith write made after a flip back wins
  over an older service write still in the outbox): where the table has updated_at, only a row
  whose updated_at is not newer is overwritten; otherwise (genres) only a row still equal to what
  the service had before its write (compare-and-set on the entry's `before` image);
- an entry that changed nothing in the monolith (guarded upsert, delete of a missing row) produces
  no CDC event, so it is marked echoed at once;
- every insert moves the monolith's id sequence past the id, so monolith inserts after a flip back
  never collide with ids the service handed out;
- entries applied longer ago than the retention (CATALOG_OUTBOX_RETENTION_HOURS, default a week)
  are deleted in small batches, so the outbox does not grow with every write ever made.

Run beside the API:  python -m services.catalog.sync.reverse
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Optional

import psycopg
from psycopg import sql

from services.catalog.config import get_settings
from services.catalog.sync.snapshot import TABLES, plain_url

log = logging.getLogger("catalog.sync.reverse")
WRITABLE = {"catalog_genre", "catalog_artist", "catalog_album", "catalog_track"}
PRUNE_EVERY_SECONDS = 60
PRUNE_BATCH = 5000   # rows per delete: short transactions, no long lock on the outbox


def _guard(table: str, columns: list[str], before: Optional[dict]) -> tuple[sql.Composable, dict]:
    """The WHERE of the upsert's DO UPDATE: when an existing monolith row may be overwritten."""
    target = sql.Identifier(table)
    if "updated_at" in columns:
        return sql.SQL(" WHERE {t}.updated_at <= excluded.updated_at").format(t=target), {}
    if before is None:
        # An insert whose id the monolith already has: only a retried replay of this very entry.
        return sql.SQL(" WHERE false"), {}
    compared = [c for c in columns if c != "id" and c in before]
    params = {f"before_{c}": before[c] for c in compared}
    condition = sql.SQL(" AND ").join(
        sql.SQL("{t}.{c} IS NOT DISTINCT FROM {p}").format(t=target, c=sql.Identifier(c), p=sql.Placeholder(f"before_{c}"))
        for c in compared)
    return sql.SQL(" WHERE ") + condition, params


def _upsert(conn, table: str, row: dict, before: Optional[dict]) -> int:
    columns = [c for c in TABLES[table][1] if c in row]
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    values = sql.SQL(", ").join(sql.Placeholder(c) for c in columns)
    updates = sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns if c != "id")
    guard, guard_params = _guard(table, columns, before)
    changed = conn.execute(sql.SQL("INSERT INTO {t} ({n}) VALUES ({v}) ON CONFLICT (id) DO UPDATE SET {u}{g}").format(
        t=sql.Identifier(table), n=names, v=values, u=updates, g=guard), {**row, **guard_params}).rowcount
    conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), GREATEST(%(id)s, "
                         "(SELECT last_value FROM {s})))").format(
        t=sql.Literal(table), s=sql.Identifier(f"{table}_id_seq")), {"id": row["id"]})
    return changed


def _replay(monolith, table: str, row_id: int, op: str, row: Optional[dict], before: Optional[dict]) -> int:
    """Apply one entry in the monolith's open transaction; returns the rows it changed."""
    if op == "delete":
        return monolith.execute(sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(table)), (row_id,)).rowcount
    return _upsert(monolith, table, row, before)


def apply_pending(catalog_url: str, monolith_url: str, batch: int = 500) -> int:
    """Apply up to `batch` pending outbox entries; returns how many were applied."""
    with psycopg.connect(plain_url(catalog_url)) as service, \
            psycopg.connect(plain_url(catalog_url), autocommit=True) as markers, \
            psycopg.connect(plain_url(monolith_url)) as monolith:
        entries = service.execute(
            "SELECT id, table_name, row_id, op, row, before FROM catalog_outbox WHERE applied_at IS NULL "
            "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (batch,)).fetchall()
        silent = []     # entries that changed nothing in the monolith: no echo will come
        for entry_id, table, row_id, op, row, before in entries:
            if table not in WRITABLE:
                silent.append(entry_id)
                continue
            with monolith.transaction():
                if _replay(monolith, table, row_id, op, row, before) == 0:
                    silent.append(entry_id)
                    continue
                xid = monolith.execute("SELECT txid_current() % 4294967296").fetchone()[0]
                # Committed before the monolith transaction is, so its echo is always recognised.
                markers.execute("INSERT INTO catalog_outbox_echo (xid, outbox_id, table_name, row_id) "
                                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", (xid, entry_id, table, row_id))
        if entries:
            service.execute("UPDATE catalog_outbox SET applied_at = now(), echoed = echoed OR id = ANY(%s) "
                            "WHERE id = ANY(%s)", (silent, [e[0] for e in entries]))
        service.commit()
        return len(entries)


def prune_applied(catalog_url: str, retention: dt.timedelta) -> int:
    """Delete entries applied longer than `retention` ago; returns how many. Pending entries stay
    whatever their age. An echo arriving after its entry was pruned is still recognised (the
    marker in catalog_outbox_echo is what the forward sync matches); only the `echoed` flag of the
    deleted entry is then not set."""
    deleted = 0
    with psycopg.connect(plain_url(catalog_url), autocommit=True) as conn:
        while True:
            count = conn.execute(
                "DELETE FROM catalog_outbox WHERE id IN (SELECT id FROM catalog_outbox WHERE applied_at < now() - %s "
                "LIMIT %s)", (retention, PRUNE_BATCH)).rowcount
            deleted += count
            if count < PRUNE_BATCH:
                break
    if deleted:
        log.info("pruned replayed outbox entries", extra={"deleted": deleted, "retention": str(retention)})
    return deleted


def main() -> None:
    from services.common.observability import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    retention = dt.timedelta(hours=settings.outbox_retention_hours)
    next_prune = time.monotonic()
    while True:
        try:
            if time.monotonic() >= next_prune:
                prune_applied(settings.database_url, retention)
                next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            if apply_pending(settings.database_url, settings.monolith_database_url) == 0:
                time.sleep(0.05)
        except psycopg.Error:
            log.exception("reverse sync failed; retrying")
            time.sleep(1)


if __name__ == "__main__":
    main()
