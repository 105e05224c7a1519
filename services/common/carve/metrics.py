"""The outbox as Prometheus sees it, read from the database at scrape time (the reverse sync runs
in a process of its own, so the API process reports what the table holds, not its own counters):

- carve_outbox_pending_entries{domain}: not yet replayed into the monolith (parked included);
- carve_outbox_parked_entries{domain}: refused by the monolith, waiting for a retry. Alert on it
  (docs/carve-a-domain.md): a parked entry is a monolith row that differs from the service's;
- carve_outbox_oldest_pending_seconds{domain}: how long the oldest pending entry has waited."""
from __future__ import annotations

import logging

import psycopg
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from psycopg import sql

from services.common.carve.declaration import Domain
from services.common.database import plain_url

log = logging.getLogger("carve.metrics")
_REGISTERED: set[str] = set()


class OutboxCollector:
    def __init__(self, domain: Domain, settings):
        self.domain, self.settings = domain, settings

    def collect(self):
        try:
            with psycopg.connect(plain_url(self.settings().database_url), connect_timeout=2) as conn:
                pending, parked, oldest = conn.execute(sql.SQL(
                    "SELECT count(*), count(*) FILTER (WHERE parked_at IS NOT NULL), "
                    "COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) FROM {} WHERE applied_at IS NULL").format(
                    sql.Identifier(self.domain.sync_table("outbox")))).fetchone()
        except psycopg.Error as exc:
            log.warning("outbox metrics unavailable", extra={"domain": self.domain.name, "error": str(exc)[:200]})
            return
        for name, help_text, value in (
                ("carve_outbox_pending_entries", "Outbox entries not yet replayed into the monolith", pending),
                ("carve_outbox_parked_entries", "Outbox entries the monolith refused, waiting for a retry", parked),
                ("carve_outbox_oldest_pending_seconds", "Age of the oldest outbox entry not yet replayed", oldest)):
            family = GaugeMetricFamily(name, help_text, labels=["domain"])
            family.add_metric([self.domain.name], float(value))
            yield family


def register(domain: Domain, settings) -> None:
    if domain.name not in _REGISTERED:
        _REGISTERED.add(domain.name)
        REGISTRY.register(OutboxCollector(domain, settings))
