"""Who accepts a domain's writes: the monolith or the service, never both.

The owner is one row in the service's database (`<domain>_write_owner`; absent = the monolith).
Every write the service serves first reads it FOR SHARE in its own transaction
(`ensure_service_owns`), and a handover changes it FOR UPDATE, so a handover waits for the writes
in flight and no write slips past it. A write that reaches the service while the monolith owns
the domain is refused with 409 and `X-Write-Owner: monolith`: it changed nothing.

The handover is one step with the route flip (`python -m proxy.cli set <write-route> new`, which
calls POST /internal/write-ownership before it changes the route file):

- to the service: wait until the replica has applied every monolith change made before the
  handover started, per partition of the domain's own tables (catch_up.py), then align the id
  sequences past the monolith's (snapshot.align_sequences), then take ownership;
- back to the monolith (after the route is back on legacy): give ownership up, move the
  monolith's sequences past the service's ids, then wait until the outbox is replayed."""
from __future__ import annotations

import datetime as dt
import logging
import time

import psycopg
from psycopg import sql
from sqlalchemy import text

from services.common.carve.declaration import Domain
from services.common.carve.snapshot import align_monolith_sequences, align_sequences
from services.common.carve.sync_tables import MONOLITH, SERVICE
from services.common.database import one_row, plain_url
from services.common.errors import APIError

log = logging.getLogger("carve.ownership")


class NotOwner(APIError):
    status_code = 409

    def __init__(self, domain: Domain):
        super().__init__(f"{domain.name} writes are served by the monolith now; this service does not accept them.",
                         headers={"X-Write-Owner": MONOLITH})


class HandoverRefused(Exception):
    """The handover did not happen; nothing changed. `detail` says why."""

    def __init__(self, detail: str, report: dict | None = None):
        super().__init__(detail)
        self.detail, self.report = detail, report or {}


async def ensure_service_owns(session, domain: Domain) -> None:
    """In a write's transaction, before it writes: refuse unless the service owns the domain."""
    owner = await session.scalar(text(
        f"SELECT owner FROM {domain.sync_table('write_owner')} WHERE domain = :d FOR SHARE"), {"d": domain.name})
    if owner != SERVICE:
        raise NotOwner(domain)


def current_owner(conn: psycopg.Connection, domain: Domain) -> dict:
    row = conn.execute(sql.SQL("SELECT owner, changed_at, changed_by FROM {} WHERE domain = %s").format(
        sql.Identifier(domain.sync_table("write_owner"))), (domain.name,)).fetchone()
    if row is None:
        return {"owner": MONOLITH, "changed_at": None, "changed_by": None}
    return {"owner": row[0], "changed_at": row[1].isoformat() if row[1] else None, "changed_by": row[2]}


def _set_owner(conn: psycopg.Connection, domain: Domain, owner: str, who: str) -> None:
    conn.execute(sql.SQL(
        "INSERT INTO {t} (domain, owner, changed_at, changed_by) VALUES (%s, %s, now(), %s) "
        "ON CONFLICT (domain) DO UPDATE SET owner = excluded.owner, changed_at = now(), changed_by = excluded.changed_by"
    ).format(t=sql.Identifier(domain.sync_table("write_owner"))), (domain.name, owner, who))


def _lock_owner(conn: psycopg.Connection, domain: Domain) -> None:
    table = sql.Identifier(domain.sync_table("write_owner"))
    conn.execute(sql.SQL("INSERT INTO {} (domain, owner, changed_by) VALUES (%s, %s, '') ON CONFLICT DO NOTHING")
                 .format(table), (domain.name, MONOLITH))
    conn.execute(sql.SQL("SELECT owner FROM {} WHERE domain = %s FOR UPDATE").format(table), (domain.name,))


def hand_to_service(domain: Domain, settings, who: str) -> dict:
    """Take the domain's writes over from the monolith (see the module docstring)."""
    from services.common.carve.catch_up import wait_caught_up

    service_url, monolith_url = plain_url(settings.database_url), plain_url(settings.monolith_database_url)
    with psycopg.connect(service_url) as service:
        if current_owner(service, domain)["owner"] == SERVICE:
            return {**current_owner(service, domain), "changed": False}
    report = wait_caught_up(domain, settings, timeout=settings.catch_up_timeout_seconds)
    if report["behind"]:
        raise HandoverRefused(f"the replica has not caught up with the monolith within "
                              f"{settings.catch_up_timeout_seconds:g} s", report)
    with psycopg.connect(service_url) as service, psycopg.connect(monolith_url) as monolith:
        _lock_owner(service, domain)
        sequences = align_sequences(domain, service, monolith)
        _set_owner(service, domain, SERVICE, who)
        service.commit()
        state = current_owner(service, domain)
    log.warning("write ownership handed to the service",
                extra={"domain": domain.name, "who": who, "sequences": sequences, "caught_up_lsn": report["target_lsn"]})
    return {**state, "changed": True, "sequences": sequences, "caught_up": report}


def hand_to_monolith(domain: Domain, settings, who: str, drain_timeout: float | None = None) -> dict:
    """Give the domain's writes back to the monolith; waits until the outbox is replayed
    (parked entries are reported, not waited for)."""
    service_url, monolith_url = plain_url(settings.database_url), plain_url(settings.monolith_database_url)
    with psycopg.connect(service_url) as service, psycopg.connect(monolith_url) as monolith:
        _lock_owner(service, domain)
        _set_owner(service, domain, MONOLITH, who)
        service.commit()
        align_monolith_sequences(domain, service, monolith)
        monolith.commit()
        deadline = time.monotonic() + (drain_timeout if drain_timeout is not None else settings.catch_up_timeout_seconds)
        while True:
            pending, parked = outbox_counts(service, domain)
            if pending - parked == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        state = current_owner(service, domain)
    log.warning("write ownership handed back to the monolith",
                extra={"domain": domain.name, "who": who, "outbox_pending": pending, "outbox_parked": parked})
    return {**state, "changed": True, "outbox_pending": pending, "outbox_parked": parked}


def outbox_counts(conn: psycopg.Connection, domain: Domain) -> tuple[int, int]:
    """(entries not yet replayed, of which parked)."""
    return one_row(conn.execute(sql.SQL(
        "SELECT count(*), count(*) FILTER (WHERE parked_at IS NOT NULL) FROM {} WHERE applied_at IS NULL").format(
        sql.Identifier(domain.sync_table("outbox")))))


def since(value: dt.datetime | None) -> float | None:
    return None if value is None else round((dt.datetime.now(dt.timezone.utc) - value).total_seconds(), 3)


_GUARDED: set[str] = set()


def install_write_guard(domain: Domain) -> None:
    """Refuse, at flush time, any ORM write to the domain's writable tables while the service does
    not own them. At flush time, so a request is validated and authorised exactly as the monolith
    would (400, 403, 405 first) and only a write that would happen is refused. Idempotent."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if domain.name in _GUARDED:
        return
    _GUARDED.add(domain.name)
    models = tuple(t.model for t in domain.writable.values())
    query = text(f"SELECT owner FROM {domain.sync_table('write_owner')} WHERE domain = :d FOR SHARE")

    @event.listens_for(Session, "before_flush")
    def _check_owner(session, flush_context, instances) -> None:
        if not any(isinstance(obj, models) for obj in (*session.new, *session.dirty, *session.deleted)):
            return
        if session.info.get(("write_owner", domain.name)) == SERVICE:
            return          # checked earlier in this transaction; the FOR SHARE lock still holds
        owner = session.connection().execute(query, {"d": domain.name}).scalar()
        if owner != SERVICE:
            raise NotOwner(domain)
        session.info[("write_owner", domain.name)] = SERVICE

    @event.listens_for(Session, "after_transaction_end")
    def _forget(session, transaction) -> None:
        if transaction.parent is None:
            session.info.pop(("write_owner", domain.name), None)


def force_owner(database_url: str, domain: Domain, owner: str, who: str) -> None:
    """Set the owner without a handover (no catch-up wait, no sequence alignment): only for a copy
    that no CDC stream or outbox replay connects to the monolith (parity runs, unit tests)."""
    with psycopg.connect(plain_url(database_url)) as conn:
        _lock_owner(conn, domain)
        _set_owner(conn, domain, owner, who)
