"""Service -> monolith: replay the outbox into the monolith's tables once the domain's writes are
served by the service, so monolith code that still reads them sees every change and a flip back
to legacy loses nothing.

- entries are applied in outbox order, each in one monolith transaction, then marked applied;
- before that transaction commits, its xid is recorded in `<domain>_outbox_echo` (committed) for
  every row of the domain it touched, so the forward sync recognises exactly those CDC events as
  echoes (forward_sync.py);
- deletes have the effects Django's ORM would have (cascades, SET_NULL, refusals: monolith_rules.py);
- an upsert never overwrites a newer monolith change: where the table has updated_at only a row
  whose updated_at is not newer is overwritten; otherwise only a row still equal to what the
  service had before its write (compare-and-set on the entry's `before` image);
- an entry the monolith refuses (a protected row, a constraint, a trigger) is parked with its reason and
  tried again later with a growing pause; it holds back only later entries of the same row, the
  rest go on. Parked entries show in sync status and in `carve_outbox_parked_entries`;
- an entry that changed nothing in the monolith produces no CDC event, so it is marked echoed;
- every insert moves the monolith's id sequence past the id (a flip back never collides);
- entries applied longer ago than the retention are deleted in small batches."""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Optional

import psycopg
from psycopg import sql

from services.common.carve.declaration import Domain, Overwrite
from services.common.carve.monolith_rules import MonolithRefused, delete_rows
from services.common.database import one_row, plain_url

log = logging.getLogger("carve.reverse_sync")
PRUNE_EVERY_SECONDS = 60
PRUNE_BATCH = 5000          # rows per delete: short transactions, no long lock on the outbox
RETRY_FIRST = dt.timedelta(seconds=5)
RETRY_MAX = dt.timedelta(minutes=10)


def _guard(table: str, rule: Overwrite, columns: list[str], before: Optional[dict]) -> tuple[sql.Composable, dict]:
    """The WHERE of the upsert's DO UPDATE: when an existing monolith row may be overwritten."""
    target = sql.Identifier(table)
    if rule is Overwrite.UPDATED_AT:
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


class ReverseSync:
    def __init__(self, domain: Domain, service_url: str, monolith_url: str, relations: dict | None = None):
        self.domain = domain
        self.relations = relations          # default: the monolith's (monolith_rules.rules())
        self.service_url, self.monolith_url = plain_url(service_url), plain_url(monolith_url)
        self.outbox = domain.sync_table("outbox")
        self.echo = domain.sync_table("outbox_echo")
        # monolith table -> the service table it mirrors (echo markers are keyed by service table)
        self.mirrored = {t.source: t.target for t in domain.tables}

    # -- one entry ---------------------------------------------------------------------------
    def _upsert(self, conn, target: str, row: dict, before: Optional[dict]) -> list[tuple[str, int]]:
        spec = self.domain.writable[target]
        table = spec.source
        columns = [c for c in spec.column_names if c in row]
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        values = sql.SQL(", ").join(sql.Placeholder(c) for c in columns)
        updates = sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns if c != "id")
        guard, guard_params = _guard(table, spec.overwrite_rule, columns, before)
        changed = conn.execute(sql.SQL("INSERT INTO {t} ({n}) VALUES ({v}) ON CONFLICT (id) DO UPDATE SET {u}{g}").format(
            t=sql.Identifier(table), n=names, v=values, u=updates, g=guard), {**row, **guard_params}).rowcount
        if spec.has_sequence:
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), GREATEST(%(id)s, "
                                 "(SELECT last_value FROM {s})))").format(
                t=sql.Literal(table), s=sql.Identifier(f"{table}_id_seq")), {"id": row["id"]})
        return [(table, row["id"])] if changed else []

    def _replay(self, conn, target: str, row_id: int, op: str, row, before) -> list[tuple[str, int]]:
        """Apply one entry in the monolith's open transaction; returns the monolith rows it touched."""
        if op == "delete":
            touched: list[tuple[str, int]] = []
            delete_rows(conn, self.domain.writable[target].source, [row_id], touched, relations=self.relations)
            return touched
        return self._upsert(conn, target, row, before)

    # -- a batch -----------------------------------------------------------------------------
    def apply_pending(self, batch: int = 500) -> int:
        """Apply up to `batch` due entries; returns how many were applied or parked."""
        outbox = sql.Identifier(self.outbox)
        with psycopg.connect(self.service_url) as service, \
                psycopg.connect(self.service_url, autocommit=True) as markers, \
                psycopg.connect(self.monolith_url) as monolith:
            # Due entries whose row has no earlier entry parked (order per row is kept).
            entries = service.execute(sql.SQL(
                "SELECT e.id, e.table_name, e.row_id, e.op, e.row, e.before, e.attempts FROM {o} e "
                "WHERE e.applied_at IS NULL AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= now()) "
                "AND NOT EXISTS (SELECT 1 FROM {o} p WHERE p.applied_at IS NULL AND p.parked_at IS NOT NULL "
                "AND p.table_name = e.table_name AND p.row_id = e.row_id AND p.id < e.id "
                "AND (p.next_attempt_at > now())) "
                "ORDER BY e.id LIMIT %s FOR UPDATE SKIP LOCKED").format(o=outbox), (batch,)).fetchall()
            applied, silent, held = [], [], set()
            for entry_id, target, row_id, op, row, before, attempts in entries:
                if (target, row_id) in held:
                    continue            # an earlier entry of this row was refused in this batch
                if target not in self.domain.writable:
                    applied.append(entry_id)
                    silent.append(entry_id)
                    continue
                try:
                    with monolith.transaction():
                        touched = self._replay(monolith, target, row_id, op, row, before)
                        mine = [(self.mirrored[t], i) for t, i in touched if t in self.mirrored]
                        if mine:
                            xid = one_row(monolith.execute("SELECT txid_current() % 4294967296"))[0]
                            # Committed before the monolith transaction is: its echo is always recognised.
                            with markers.cursor() as cur:
                                cur.executemany(sql.SQL(
                                    "INSERT INTO {} (xid, outbox_id, table_name, row_id) VALUES (%s, %s, %s, %s) "
                                    "ON CONFLICT DO NOTHING").format(sql.Identifier(self.echo)),
                                    [(xid, entry_id, t, i) for t, i in dict.fromkeys(mine)])
                except (MonolithRefused, psycopg.DatabaseError) as refusal:
                    # Anything the monolith refuses for this entry parks it (a constraint, a trigger's
                    # exception, a value out of range); a lost connection, a deadlock or a timeout
                    # (OperationalError) says nothing about the entry: the batch is tried again.
                    if isinstance(refusal, psycopg.OperationalError):
                        raise
                    held.add((target, row_id))
                    self._park(service, entry_id, attempts, f"{type(refusal).__name__}: {refusal}")
                    continue
                applied.append(entry_id)
                if not touched:
                    silent.append(entry_id)
            if applied:
                service.execute(sql.SQL(
                    "UPDATE {} SET applied_at = now(), parked_at = NULL, next_attempt_at = NULL, "
                    "echoed = echoed OR id = ANY(%s) WHERE id = ANY(%s)").format(outbox), (silent, applied))
            service.commit()
            return len(applied) + len(held)

    def _park(self, service, entry_id: int, attempts: int, reason: str) -> None:
        pause = min(RETRY_MAX, RETRY_FIRST * (2 ** min(attempts, 12)))
        service.execute(sql.SQL(
            "UPDATE {} SET attempts = attempts + 1, parked_at = COALESCE(parked_at, now()), park_reason = %s, "
            "next_attempt_at = now() + %s WHERE id = %s").format(sql.Identifier(self.outbox)),
            (reason[:1000], pause, entry_id))
        log.error("outbox entry parked: the monolith refused its replay",
                  extra={"domain": self.domain.name, "outbox_id": entry_id, "attempts": attempts + 1,
                         "reason": reason[:300], "retry_in_seconds": pause.total_seconds()})

    def retry_parked(self) -> int:
        """Make every parked entry due now (after fixing what blocked it); returns how many."""
        with psycopg.connect(self.service_url, autocommit=True) as conn:
            return conn.execute(sql.SQL("UPDATE {} SET next_attempt_at = now() WHERE applied_at IS NULL "
                                        "AND parked_at IS NOT NULL").format(sql.Identifier(self.outbox))).rowcount

    def prune_applied(self, retention: dt.timedelta) -> int:
        """Delete entries applied longer than `retention` ago; pending entries stay whatever their age.
        An echo arriving after its entry was pruned is still recognised (by its marker)."""
        deleted = 0
        with psycopg.connect(self.service_url, autocommit=True) as conn:
            while True:
                count = conn.execute(sql.SQL(
                    "DELETE FROM {o} WHERE id IN (SELECT id FROM {o} WHERE applied_at < now() - %s LIMIT %s)").format(
                    o=sql.Identifier(self.outbox)), (retention, PRUNE_BATCH)).rowcount
                deleted += count
                if count < PRUNE_BATCH:
                    break
        if deleted:
            log.info("pruned replayed outbox entries", extra={"deleted": deleted, "retention": str(retention)})
        return deleted

    def run(self, retention: dt.timedelta, stop=None) -> None:
        next_prune = time.monotonic()
        while stop is None or not stop.is_set():
            try:
                if time.monotonic() >= next_prune:
                    self.prune_applied(retention)
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                if self.apply_pending() == 0:
                    time.sleep(0.05)
            except psycopg.Error:
                log.exception("reverse sync failed; retrying", extra={"domain": self.domain.name})
                time.sleep(1)
