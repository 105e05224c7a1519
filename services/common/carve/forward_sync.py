"""Monolith -> service: the CDC consumer that keeps a domain's tables a faithful replica.

The shared runtime (cdc.consumer) applies the declared tables by primary key with its LSN guard,
dead-lettering and offset handling. The kit adds, through the runtime's event filter:

- echo suppression: once writes are cut over the reverse sync replays the service's writes into
  the monolith, and Debezium streams them back. An event is an echo only if it comes from a
  monolith transaction the reverse sync made for that very row (its source.txId recorded in
  `<domain>_outbox_echo` before that transaction committed); echoes are not applied (the service
  has the row, possibly newer) and their entries are marked echoed. Every other event is a genuine
  monolith change and is applied, even for a row the service wrote. A marker is deleted an hour
  after its transaction was first seen (a batch read again after a crash must still find it);
- after each batch: the last applied source LSN (`<domain>_sync_state`, for sync status), and the
  service's id sequences moved past the ids CDC inserted, so a write served by the service never
  collides with a replicated row."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Optional

from sqlalchemy import delete, func, select, text, tuple_, update
from sqlalchemy.engine import Engine

from cdc.consumer import FilteredBatch
from services.common.carve.declaration import Domain
from services.common.carve.sync_tables import sync_models

log = logging.getLogger("carve.forward_sync")
XID_MASK = 0xFFFFFFFF     # Debezium reports the 32-bit xid
ECHO_RETENTION = dt.timedelta(hours=1)


class EchoFilter:
    """The runtime's event filter: takes the echoes of the service's own writes out of a batch
    (they still count as consumed); outcome "echo" in cdc_consumer_events_total."""

    outcome = "echo"

    def __init__(self, domain: Domain, engine: Engine, retention: dt.timedelta = ECHO_RETENTION):
        self.domain = domain
        self.engine = engine
        self.retention = retention
        models = sync_models(domain)
        self.Echo, self.Outbox = models.echo, models.outbox
        self.targets = {source: t.target for source, t in domain.by_source.items()}

    def key(self, event) -> Optional[tuple[int, str, int]]:
        """(xid, service table, row id): the key an echo marker is recorded under."""
        target = self.targets.get(event.table)
        if event.is_tombstone or target is None or event.tx_id is None:
            return None
        row = event.row or event.key or {}
        return (event.tx_id & XID_MASK, target, int(row["id"])) if "id" in row else None

    def __call__(self, events) -> FilteredBatch:
        keys = [self.key(e) for e in events]
        marked = {k for k in keys if k is not None}
        echoes = self._settle(marked) if marked else {}
        if not echoes:
            return FilteredBatch(events, [], self.outcome)
        kept: list = []
        skipped: list = []
        for event, key in zip(events, keys):
            (skipped if key in echoes else kept).append(event)
        log.info("skipped echoes of service writes", extra={"domain": self.domain.name, "skipped": len(skipped)})
        return FilteredBatch(kept, skipped, self.outcome)

    def _settle(self, marked: set) -> dict:
        Echo, Outbox = self.Echo, self.Outbox
        with self.engine.begin() as conn:
            known = conn.execute(select(Echo.xid, Echo.table_name, Echo.row_id, Echo.outbox_id)
                                 .where(Echo.xid.in_({xid for xid, _, _ in marked}))).all()
            echoes = {(xid, table, row_id): outbox_id for xid, table, row_id, outbox_id in known
                      if (xid, table, row_id) in marked}
            if not echoes:
                return {}
            conn.execute(update(Outbox).where(Outbox.id.in_(set(echoes.values()))).values(echoed=True))
            seen = [(xid, outbox_id) for (xid, _, _), outbox_id in echoes.items()]
            conn.execute(update(Echo).where(tuple_(Echo.xid, Echo.outbox_id).in_(seen), Echo.seen_at.is_(None))
                         .values(seen_at=func.now()))
            conn.execute(delete(Echo).where(Echo.seen_at < func.now() - self.retention))
        return echoes


class AfterBatch:
    """ConsumerRunner's on_applied: the sync position, then the id sequences past inserted ids."""

    def __init__(self, domain: Domain, engine: Engine):
        self.domain, self.engine = domain, engine
        self.state = domain.sync_table("sync_state")
        self.sequenced = {f"{t.schema}.{t.source}": t.target for t in domain.sequenced}

    def __call__(self, result, events) -> None:
        inserted = {self.sequenced[e.table] for e in events if e.op in ("c", "r") and e.table in self.sequenced}
        if result.last_lsn is None and not inserted:
            return
        with self.engine.begin() as conn:
            if result.last_lsn is not None:
                ts = (dt.datetime.fromtimestamp(result.last_source_ts_ms / 1000, dt.timezone.utc)
                      if result.last_source_ts_ms else None)
                conn.execute(text(
                    f"INSERT INTO {self.state} (source, last_lsn, last_source_ts, updated_at) "
                    "VALUES ('monolith', :lsn, :ts, now()) ON CONFLICT (source) DO UPDATE SET "
                    f"last_lsn = GREATEST({self.state}.last_lsn, excluded.last_lsn), "
                    "last_source_ts = excluded.last_source_ts, updated_at = now()"), {"lsn": result.last_lsn, "ts": ts})
            for table in sorted(inserted):
                conn.execute(text(sequence_past_max_id(table)))


def sequence_past_max_id(table: str) -> str:
    """Moves `table`'s id sequence to at least its highest id (never backwards)."""
    return (f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST("
            f"(SELECT COALESCE(max(id), 0) FROM {table}), (SELECT last_value FROM {table}_id_seq)), true)")


def build_runner(domain: Domain, settings):
    """The domain's forward sync on the shared runtime, configured by its CarveSettings."""
    from sqlalchemy import create_engine

    from cdc.consumer import ConsumerRunner
    from services.common.database import async_url

    engine = create_engine(async_url(settings.database_url), pool_pre_ping=True)
    return ConsumerRunner(domain.topic_map(settings.cdc_topic_prefix), engine, group_id=settings.cdc_group,
                          bootstrap_servers=settings.kafka_bootstrap_servers,
                          event_filter=EchoFilter(domain, engine), on_applied=AfterBatch(domain, engine))
