"""Monolith -> service: the CDC consumer that keeps the catalog tables a faithful replica.

Uses the shared consumer runtime (cdc.consumer): Debezium topics `<prefix>.public.<table>` are
applied by primary key with its LSN guard, dead-lettering and offset handling. This module only
declares the mapping and adds the catalog's two concerns:

- echo suppression: once writes are cut over, the reverse sync (sync/reverse.py) replays the
  service's writes into the monolith, and Debezium streams them back. An event for a row that still
  has outbox entries not yet echoed is the service's own change coming back (or older than it), so it
  is skipped and the entry marked echoed - this is the origin marker that stops loops;
- the last applied source LSN, recorded in catalog_sync_state for /internal/sync-status.

Run beside the API:  python -m services.catalog.sync.forward
"""
from __future__ import annotations

import datetime as dt
import logging
import os

from sqlalchemy import and_, create_engine, select, text, update

from services.catalog.config import get_settings
from services.catalog.sync.models import SyncState
from services.catalog.sync.outbox import OutboxEntry
from services.common.database import async_url

log = logging.getLogger("catalog.sync.forward")

# monolith table -> service table (same columns; accounts_user only for the role columns)
MIRRORED = {
    "public.catalog_genre": "catalog_genre",
    "public.catalog_artist": "catalog_artist",
    "public.catalog_album": "catalog_album",
    "public.catalog_track": "catalog_track",
    "public.accounts_user": "account_user",
}


def topic_map(prefix: str):
    from cdc.consumer import TableMapping, TopicMap

    return TopicMap(prefix, [TableMapping(source, target) for source, target in MIRRORED.items()])


def echo_filter(engine):
    """Split a batch into events to apply and echoes of the service's own writes."""

    def keep(events):
        candidates = [e for e in events if not e.is_tombstone and e.table in MIRRORED and e.row]
        if not candidates:
            return events
        keys = {(MIRRORED[e.table], int(e.row["id"])) for e in candidates if "id" in e.row}
        if not keys:
            return events
        with engine.begin() as conn:
            outstanding = conn.execute(
                select(OutboxEntry.table_name, OutboxEntry.row_id, OutboxEntry.id).where(
                    OutboxEntry.echoed.is_(False),
                    OutboxEntry.row_id.in_([k[1] for k in keys]),
                )).all()
            owned = {(t, r) for t, r, _ in outstanding if (t, r) in keys}
            if not owned:
                return events
            applied = [i for t, r, i in outstanding if (t, r) in owned]
            # Everything the service wrote for these rows and has already pushed is now echoed.
            conn.execute(update(OutboxEntry).where(OutboxEntry.id.in_(applied), OutboxEntry.applied_at.isnot(None))
                         .values(echoed=True))
        kept = [e for e in events if e.is_tombstone or e.table not in MIRRORED or not e.row
                or (MIRRORED[e.table], int(e.row.get("id", -1))) not in owned]
        log.info("skipped echoes of service writes", extra={"skipped": len(events) - len(kept)})
        return kept

    return keep


def record_position(engine):
    def on_applied(result, events) -> None:
        if result.last_lsn is None:
            return
        ts = (dt.datetime.fromtimestamp(result.last_source_ts_ms / 1000, dt.timezone.utc)
              if result.last_source_ts_ms else None)
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO catalog_sync_state (source, last_lsn, last_source_ts, updated_at) "
                "VALUES ('monolith', :lsn, :ts, now()) ON CONFLICT (source) DO UPDATE SET "
                "last_lsn = GREATEST(catalog_sync_state.last_lsn, excluded.last_lsn), "
                "last_source_ts = excluded.last_source_ts, updated_at = now()"), {"lsn": result.last_lsn, "ts": ts})

    return on_applied


def build_runner():
    from cdc.consumer import ConsumerRunner

    settings = get_settings()
    engine = create_engine(async_url(settings.database_url), pool_pre_ping=True)
    runner = ConsumerRunner(topic_map(os.environ.get("CDC_TOPIC_PREFIX", "vobe")), engine,
                            group_id=os.environ.get("CATALOG_CDC_GROUP", "catalog-service"),
                            on_applied=record_position(engine))
    keep = echo_filter(engine)
    original_apply = runner.applier.apply
    # The runtime applies whatever it is given; echoes are removed before they reach it.
    runner.applier.apply = lambda events, poison=(): original_apply(keep(events), poison)
    return runner


def main() -> None:
    from services.common.observability import configure_logging

    configure_logging(get_settings().log_level)
    build_runner().run()


if __name__ == "__main__":
    main()
