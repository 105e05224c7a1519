"""Has the replica applied every monolith change made before now? Decided per partition of the
domain's own tables (cdc.consumer.partitions_behind), never by the highest LSN over all
partitions: the heartbeat topic's position says nothing about a lagging table partition."""
from __future__ import annotations

import dataclasses
import time

import psycopg
from sqlalchemy import create_engine

from cdc.lsn import int_to_lsn
from services.common.carve.declaration import Domain
from services.common.database import one_row, async_url, plain_url


def monolith_lsn(settings) -> int:
    with psycopg.connect(plain_url(settings.monolith_database_url)) as conn:
        return int(one_row(conn.execute("SELECT pg_current_wal_lsn() - '0/0'"))[0])


def behind(domain: Domain, settings, target_lsn: int, engine=None) -> list[dict]:
    from cdc.consumer import partitions_behind

    engine = engine or create_engine(async_url(settings.database_url))
    lags = partitions_behind(engine, settings.cdc_group, domain.topics(settings.cdc_topic_prefix), target_lsn,
                             settings.kafka_bootstrap_servers,
                             heartbeat_topic=f"{settings.cdc_topic_prefix}.cdc.heartbeat")
    return [dataclasses.asdict(lag) for lag in lags]


def wait_caught_up(domain: Domain, settings, timeout: float, target_lsn: int | None = None) -> dict:
    """Waits until no partition is behind the monolith's current LSN (taken once, at the start)."""
    target = monolith_lsn(settings) if target_lsn is None else target_lsn
    engine = create_engine(async_url(settings.database_url))
    deadline = time.monotonic() + timeout
    try:
        while True:
            lagging = behind(domain, settings, target, engine)
            if not lagging or time.monotonic() >= deadline:
                return {"target_lsn": int_to_lsn(target), "target_lsn_int": target, "behind": lagging}
            time.sleep(0.2)
    finally:
        engine.dispose()
