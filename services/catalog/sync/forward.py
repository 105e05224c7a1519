"""Monolith -> service: the CDC consumer that keeps the catalog tables a faithful replica.

Uses the shared consumer runtime (cdc.consumer): Debezium topics `<prefix>.public.<table>` are
applied by primary key with its LSN guard, dead-lettering and offset handling. This module only
declares the mapping and adds the catalog's two concerns:

- echo suppression: once writes are cut over, the reverse sync (sync/reverse.py) replays the
  service's writes into the monolith, and Debezium streams them back. An event is an echo only if
  it comes from a monolith transaction the reverse sync made for that very row (its source.txId is
  recorded in catalog_outbox_echo before that transaction commits); echoes are not applied (the
  service already has the row, possibly newer) and their outbox entries are marked echoed. Every
  other event is a genuine monolith change and is applied, even for a row the service wrote.
  A marker is deleted an hour after its transaction was first seen here (EchoFilter); echoes are
  counted as outcome "echo" in cdc_consumer_events_total, not as tombstones;
- the last applied source LSN, recorded in catalog_sync_state for /internal/sync-status.

Run beside the API:  python -m services.catalog.sync.forward
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from typing import Optional

from sqlalchemy import create_engine, delete, func, select, text, tuple_, update

from services.catalog.config import get_settings
from services.catalog.sync.outbox import OutboxEcho, OutboxEntry
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


XID_MASK = 0xFFFFFFFF     # Debezium reports the 32-bit xid


def _echo_key(event) -> Optional[tuple[int, str, int]]:
    """(xid, service table, row id) of a row change, the key an echo is recorded under."""
    if event.is_tombstone or event.table not in MIRRORED or event.tx_id is None:
        return None
    row = event.row or event.key or {}
    return (event.tx_id & XID_MASK, MIRRORED[event.table], int(row["id"])) if "id" in row else None


def _position_only(event):
    """The echo as a tombstone: the runtime then applies nothing for it but still records its offset
    and LSN, so the sync position keeps advancing while only echoes flow."""
    return dataclasses.replace(event, op="tombstone")


# A seen marker is kept this long before it is pruned: a batch read again after a crash (its
# offsets not yet committed) must still find the markers of the echoes in it.
ECHO_RETENTION = dt.timedelta(hours=1)


class EchoFilter:
    """Replaces the echoes of the service's own writes in a batch by position-only events.

    A marker (catalog_outbox_echo row) is needed only until its monolith transaction has been seen
    here: the first sighting sets its seen_at, and markers seen more than `retention` ago are
    deleted in the same transaction. Markers never seen (a replay whose monolith transaction did
    not commit) are kept. `skipped` is the number of echoes in the last batch."""

    def __init__(self, engine, retention: dt.timedelta = ECHO_RETENTION):
        self.engine = engine
        self.retention = retention
        self.skipped = 0

    def __call__(self, events):
        self.skipped = 0
        keys = [_echo_key(e) for e in events]
        marked = {k for k in keys if k is not None}
        if not marked:
            return events
        with self.engine.begin() as conn:
            known = conn.execute(select(OutboxEcho.xid, OutboxEcho.table_name, OutboxEcho.row_id, OutboxEcho.outbox_id)
                                 .where(OutboxEcho.xid.in_({xid for xid, _, _ in marked}))).all()
            echoes = {(xid, table, row_id): outbox_id for xid, table, row_id, outbox_id in known
                      if (xid, table, row_id) in marked}
            if not echoes:
                return events
            conn.execute(update(OutboxEntry).where(OutboxEntry.id.in_(set(echoes.values()))).values(echoed=True))
            seen = [(xid, outbox_id) for (xid, _, _), outbox_id in echoes.items()]
            conn.execute(update(OutboxEcho)
                         .where(tuple_(OutboxEcho.xid, OutboxEcho.outbox_id).in_(seen), OutboxEcho.seen_at.is_(None))
                         .values(seen_at=func.now()))
            pruned = conn.execute(delete(OutboxEcho).where(OutboxEcho.seen_at < func.now() - self.retention)).rowcount
        self.skipped = sum(k in echoes for k in keys)
        log.info("skipped echoes of service writes", extra={"skipped": self.skipped, "markers_pruned": pruned})
        return [_position_only(e) if k in echoes else e for e, k in zip(events, keys)]


def echo_filter(engine, retention: dt.timedelta = ECHO_RETENTION) -> EchoFilter:
    return EchoFilter(engine, retention)


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


def suppress_echoes(applier, keep: EchoFilter, consumer_name: str) -> None:
    """Wrap the runtime's applier: it applies whatever it is given, so echoes are taken out first.
    They reach it as position-only tombstones; the events metric counts them as `echo`, not as
    `tombstone` (cdc_consumer_events_total{outcome="echo"})."""
    from cdc.consumer import metrics

    original_apply = applier.apply

    def apply(events, poison=()):
        result = original_apply(keep(events), poison)
        if keep.skipped:
            result.tombstones -= keep.skipped
            metrics.EVENTS.labels(consumer_name, "echo").inc(keep.skipped)
        return result

    applier.apply = apply


def build_runner():
    from cdc.consumer import ConsumerRunner

    settings = get_settings()
    engine = create_engine(async_url(settings.database_url), pool_pre_ping=True)
    runner = ConsumerRunner(topic_map(os.environ.get("CDC_TOPIC_PREFIX", "vobe")), engine,
                            group_id=os.environ.get("CATALOG_CDC_GROUP", "catalog-service"),
                            on_applied=record_position(engine))
    suppress_echoes(runner.applier, echo_filter(engine), runner.name)
    return runner


def main() -> None:
    from services.common.observability import configure_logging

    configure_logging(get_settings().log_level)
    runner = build_runner()
    # This process's main work is the runner: its start-up objects leave the collector's scans
    # (cdc.consumer.runner.freeze_startup_objects; pauses of 157-876 ms without, ADR 0003).
    runner.freeze_gc = True
    runner.run()


if __name__ == "__main__":
    main()
