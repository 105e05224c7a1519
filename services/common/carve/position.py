"""The replica's applied position: the monolith WAL position up to which every change to the
domain's tables is applied, per table and overall. `GET /internal/sync-status?position=true`
answers it as `position`; the proxy's shadow worker and the parity suite wait on it before they
compare an answer of this service with the monolith's (proxy/shadow/cdc_wait.py).

    position.tables[t] = P   every change to monolith table t with an LSN below P is applied
    position.lsn_int         the minimum over the domain's tables

The rule. LSNs are per partition, so the highest LSN applied anywhere says nothing about a busy
table still working through its backlog, and a quiet table's own applied LSN is old although it
has nothing left to apply (cdc/consumer/catch_up.py). So, per partition of the domain's topics:

- F, the frontier, is the highest LSN the consumer applied on any partition it follows (the
  domain's topics and the heartbeat topic). An applied event with LSN F proves the source's
  changes committed before F reached the broker (events are streamed in commit order and the
  relay delivers batches in order; the same argument, and the same small gap of a record still
  being retried, as the kit's heartbeat precondition).
- a partition whose applied LSN is >= F, or whose next message after the applied offset does not
  exist (it is drained at the broker), is at F;
- a partition with a next message not applied yet is at that message's LSN N: everything of the
  partition committed before N's transaction precedes it and is applied;
- a partition not answered in time is at its applied LSN (0 if nothing): unknown is never ahead.

Why the stamp L (pg_current_wal_lsn() after the monolith's request) is settled by P >= L: a change
the monolith's answer can reflect committed before L was read, so its commit record is below L <= P,
so it committed before the event at P, so (above) it is applied. The cost of the rule: one query
of cdc_consumer_progress and a peek at the partitions below F (a short-lived Kafka consumer, no
group), so callers poll it only while they wait.

A quiet monolith. There F is the last heartbeat's LSN, below any stamp read after it, and a wait
would settle only at Debezium's next heartbeat (`heartbeat.interval.ms`, 5 s): longer than the
shadow's 2 s. So a caller that names the position it waits for (`target`) and finds the replica
below it gets a nudge: the same upsert as Debezium's heartbeat.action.query on the monolith's
cdc.heartbeat (at most one per NUDGE_INTERVAL per process). Its event commits after the target
was read, so once applied F passes the target, and drained partitions with it: the next poll a
few hundred ms later settles the wait. A nudge that fails (no UPDATE right on cdc.heartbeat) is
logged once and the wait falls back to Debezium's own heartbeat."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Iterable, Optional

import psycopg

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from cdc.lsn import int_to_lsn
from services.common.carve.declaration import Domain
from services.common.database import async_url, plain_url

log = logging.getLogger("services.carve.position")
PEEK_TIMEOUT = 2.0
NUDGE_INTERVAL = 0.25        # seconds between nudges of one process
# cdc/connectors/monolith-postgres.json's heartbeat.action.query (cdc/sql: the cdc.heartbeat table)
NUDGE_SQL = ("INSERT INTO cdc.heartbeat (id, beat_at) VALUES (1, now()) "
             "ON CONFLICT (id) DO UPDATE SET beat_at = EXCLUDED.beat_at")
_nudged = {"at": 0.0, "failed": False}
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _engine(url: str) -> Engine:
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = create_engine(async_url(url), pool_size=1, max_overflow=1, pool_pre_ping=True)
        return engine


def table_of(topic: str) -> str:
    """'vobe.public.catalog_track' -> 'catalog_track'."""
    return topic.rsplit(".", 1)[-1]


def nudge(settings: Any) -> bool:
    """One heartbeat row written to the monolith, unless one was written in the last NUDGE_INTERVAL."""
    with _lock:
        now = time.monotonic()
        if now - _nudged["at"] < NUDGE_INTERVAL:
            return False
        _nudged["at"] = now
    try:
        with psycopg.connect(plain_url(settings.monolith_database_url), autocommit=True, connect_timeout=2) as conn:
            conn.execute(NUDGE_SQL)
        return True
    except psycopg.Error as exc:
        if not _nudged["failed"]:
            log.warning("cannot nudge the CDC heartbeat; waits settle at Debezium's own heartbeat",
                        extra={"error": str(exc)[:300]})
        _nudged["failed"] = True
        return False


def applied_position(domain: Domain, settings: Any, engine: Optional[Engine] = None,
                     timeout: float = PEEK_TIMEOUT, target: Optional[int] = None) -> dict:
    """The position document; with `target`, a replica found below it nudges the heartbeat."""
    document = _position(domain, settings, engine, timeout)
    if target is not None and document["lsn_int"] < target:
        document["nudged"] = nudge(settings)
    return document


def _position(domain: Domain, settings: Any, engine: Optional[Engine], timeout: float) -> dict:
    from cdc.consumer.catch_up import partition_progress

    engine = engine or _engine(settings.database_url)
    prefix = settings.cdc_topic_prefix
    topics = domain.topics(prefix)
    progress = partition_progress(engine, settings.cdc_group, [*topics, f"{prefix}.cdc.heartbeat"])
    return position_of(progress, topics, settings.kafka_bootstrap_servers, timeout, engine)


def position_of(progress: Iterable[Any], topics: list[str], bootstrap_servers: str,
                timeout: float = PEEK_TIMEOUT, engine: Optional[Engine] = None) -> dict:
    """The rule above over a consumer's applied progress (cdc.consumer.PartitionProgress per
    partition, the heartbeat's included): from cdc_consumer_progress, or kept by a consumer that
    has no progress rows (the search index)."""
    from cdc.consumer import partitions_behind

    progress = list(progress)
    frontier = max((p.lsn for p in progress if p.lsn is not None), default=None)
    tables = [table_of(topic) for topic in topics]
    if frontier is None:  # nothing applied yet: no position
        return position_document({t: 0 for t in tables}, None, [])
    lags = partitions_behind(engine, "", topics, frontier, bootstrap_servers,  # type: ignore[arg-type]
                             delivered_lsn=frontier, timeout=timeout, progress=progress)
    at: dict[str, int] = {t: frontier for t in tables}
    for lag in lags:
        if lag.partition < 0 and lag.reason == "no-topic":
            continue                        # never published: no change of that table to wait for
        if lag.reason == "behind" and lag.next_lsn is not None:
            value = lag.next_lsn
        else:                               # unread, or an undecodable next message
            value = lag.applied_lsn or 0
        table = table_of(lag.topic)
        at[table] = min(at.get(table, frontier), value)
    return position_document(at, frontier, [{"topic": lag.topic, "partition": lag.partition, "reason": lag.reason,
                                             "applied_lsn": lag.applied_lsn, "next_lsn": lag.next_lsn}
                                            for lag in lags])


def position_document(tables: dict[str, int], frontier: Optional[int], behind: list) -> dict:
    overall = min(tables.values(), default=0)
    return {"lsn": int_to_lsn(overall), "lsn_int": overall, "tables": tables,
            "frontier_lsn_int": frontier, "behind": behind}
