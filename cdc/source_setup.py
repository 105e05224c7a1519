"""Idempotent set-up of the CDC-owned objects in the monolith database (not Django migrations):
the cdc schema with the heartbeat and signal tables, REPLICA IDENTITY FULL where consumers need
the before image, and the publication holding exactly the connector's table.include.list.

Also the replication-slot helpers: a slot left behind holds WAL forever, so dropping one is an
explicit, logged act (tests drop theirs; the stack keeps its one slot across restarts)."""
from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from cdc.connector_config import ConnectorConfig
from cdc.settings import CDC_DIR

log = logging.getLogger("cdc.source_setup")

SETUP_SQL = CDC_DIR / "sql" / "setup.sql"

# With REPLICA IDENTITY DEFAULT a delete's `before` carries the key plus fake defaults. These tables
# get FULL because their consumers need the old row on update/delete: join and child rows name their
# parent only in the before image of a delete (search re-indexes the post/playlist/album), and
# catalog consumers diff old/new. listening_listenevent stays DEFAULT: it is append-only and by far
# the largest table, and FULL doubles the WAL of every update.
REPLICA_IDENTITY_FULL = {
    "public.accounts_user", "public.accounts_profile",
    "public.catalog_genre", "public.catalog_artist", "public.catalog_album", "public.catalog_track",
    "public.content_post", "public.content_post_artists", "public.content_post_tracks",
    "public.comments_comment", "public.feedback_ticket",
    "public.playlists_playlist", "public.playlists_playlisttrack",
}

# Tables that must never reach a topic, whatever someone adds to table.include.list.
NEVER_STREAM_PREFIXES = ("public.token_blacklist_", "public.django_session", "public.auth_",
                         "public.django_admin_log")


def _ident(qualified: str) -> sql.Composable:
    schema, table = qualified.split(".", 1)
    return sql.Identifier(schema, table)


def check_table_list(connector: ConnectorConfig) -> None:
    forbidden = [t for t in connector.tables if t.startswith(NEVER_STREAM_PREFIXES)]
    if forbidden:
        raise ValueError(f"these tables hold secrets or sessions and must never be streamed: {forbidden}")


def setup_source(database_url: str, connector: ConnectorConfig) -> None:
    check_table_list(connector)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SETUP_SQL.read_text())
        existing = {
            f"{schema}.{name}": ident
            for schema, name, ident in conn.execute(
                "SELECT n.nspname, c.relname, c.relreplident FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
            )
        }
        missing = [t for t in connector.tables if t not in existing]
        if missing:
            raise RuntimeError(f"captured tables missing in the source database (migrate first?): {missing}")
        for table in connector.tables:
            # Only ALTER when it differs: the statement takes an ACCESS EXCLUSIVE lock.
            if table in REPLICA_IDENTITY_FULL and existing[table] != "f":
                conn.execute(sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(_ident(table)))
                log.info("replica identity full", extra={"table": table})
        tables = sql.SQL(", ").join(_ident(t) for t in connector.tables)
        publication = sql.Identifier(connector.publication_name)
        current = {
            f"{schema}.{name}"
            for schema, name in conn.execute(
                "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = %s",
                (connector.publication_name,),
            )
        }
        exists = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s",
                              (connector.publication_name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(publication, tables))
            log.info("publication created", extra={"publication": connector.publication_name})
        elif current != set(connector.tables):
            conn.execute(sql.SQL("ALTER PUBLICATION {} SET TABLE {}").format(publication, tables))
            log.info("publication tables updated", extra={"publication": connector.publication_name})


def slot_info(database_url: str, slot_name: str) -> dict | None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT slot_name, active, active_pid, restart_lsn::text, confirmed_flush_lsn::text, "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS behind_bytes, "
            "pg_current_wal_lsn()::text AS current_lsn "
            "FROM pg_replication_slots WHERE slot_name = %s",
            (slot_name,),
        ).fetchone()
        if row is None:
            return None
        keys = ["slot_name", "active", "active_pid", "restart_lsn", "confirmed_flush_lsn", "behind_bytes", "current_lsn"]
        return dict(zip(keys, row))


def drop_slot(database_url: str, slot_name: str, terminate_active: bool = True) -> bool:
    """Drop a logical slot (terminating its walsender first if asked). Returns True if dropped."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s",
                           (slot_name,)).fetchone()
        if row is None:
            return False
        if row[0] and terminate_active:
            conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        for _ in range(50):
            try:
                conn.execute("SELECT pg_drop_replication_slot(%s)", (slot_name,))
                log.warning("replication slot dropped", extra={"slot": slot_name})
                return True
            except psycopg.errors.ObjectInUse:
                import time
                time.sleep(0.2)
        raise RuntimeError(f"slot {slot_name} stayed active")


def drop_publication(database_url: str, publication: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(publication)))
