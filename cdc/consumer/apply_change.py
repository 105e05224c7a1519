"""Applying a batch of change events to a SQLAlchemy target in one transaction, idempotently:
upsert by key, delete on op=d, and skip any event older (by source LSN) than what the row already
reflects. Replays after a crash, duplicates from relay retries and old stream events replayed after
a re-snapshot are therefore harmless.

Per batch and target table: the position upsert, the upsert, one DELETE; then the progress row.
Within a batch only the newest event per row is written. The position upsert comes first and
returns the rows whose event is not older than what they reflect: one statement decides and
records, and only those rows are written. On a psycopg 3 connection a batch of COPY_THRESHOLD rows
or more goes through COPY into session-local staging tables and one INSERT .. SELECT .. ON CONFLICT
DO UPDATE per table (several times faster than multi-row VALUES); smaller batches, other drivers
and tables with JSON columns use SQLAlchemy's executemany (insertmanyvalues)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import psycopg
from psycopg import sql as psql
from sqlalchemy import JSON, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from cdc.consumer.bookkeeping import consumer_progress, ensure_tables, row_position
from cdc.consumer.contracts import ApplyResult, DeadLetterSink
from cdc.consumer.envelope import ChangeEvent, PoisonEvent
from cdc.consumer.mapping import BoundMapping, TopicMap, bind, row_key_text
from cdc.consumer.prepare import RowDecoder, prepare

__all__ = ["ApplyResult", "COPY_THRESHOLD", "ChangeApplier"]

log = logging.getLogger("cdc.consumer.apply")

# Below this many rows a multi-row INSERT beats COPY + staging (fewer round trips): single-row
# changes stay fast, bulk changes go through COPY.
COPY_THRESHOLD = 200


@dataclass(slots=True)
class _Change:
    bound: BoundMapping
    key: tuple
    key_text: str
    op: str
    row: dict[str, Any]
    event: ChangeEvent


# The COPY path talks to psycopg directly, so its errors arrive unwrapped.
DatabaseError = (DBAPIError, psycopg.Error)


def _transient(exc: BaseException) -> bool:
    """Connection-level failures are retried; data errors are not (they poison one event)."""
    if isinstance(exc, (OperationalError, psycopg.OperationalError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _detail(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc)


class ChangeApplier:
    """The runtime's applier (cdc.consumer.Applier) for mirror tables."""

    def __init__(self, engine: Engine, topic_map: TopicMap, consumer_name: str):
        self.engine = engine
        self.topic_map = topic_map
        self.consumer_name = consumer_name
        self.epoch: str | None = None      # the relay epoch the runner reads in (set per batch)
        self.transactions = 0              # committed target transactions (bisection is visible here)
        # Called with the events the target rejected, before the transaction that records progress
        # past them commits: the dead-letter topic must hold them first, or a stop in between
        # would skip them on restart without a trace (ConsumerRunner sets it).
        self.dead_letter: DeadLetterSink | None = None
        ensure_tables(engine)
        self.bound = bind(topic_map, engine)
        self._decoders = {topic: _row_decoder(bound) for topic, bound in self.bound.items()}

    # -- public --------------------------------------------------------------------------
    def apply(self, events: list[ChangeEvent], poison: Iterable[tuple[ChangeEvent, PoisonEvent]] = (),
              skipped: Sequence[ChangeEvent] = ()) -> ApplyResult:
        """Apply decoded events (and record progress past already-known poison and past the events
        an event filter skipped) in one transaction.

        Events that cannot be applied are returned in result.poison; everything else is committed
        when this returns."""
        result = ApplyResult(poison=list(poison))
        changes = prepare(events, self._decoders, result).changes
        # Progress covers every message of the batch, poison included (it is dead-lettered, not
        # lost) and skipped events (consumed, only not applied).
        seen = events + [event for event, _ in result.poison]
        if skipped:
            seen += skipped
        try:
            self._commit(changes, seen, result)
        except DatabaseError as exc:
            if _transient(exc):
                raise
            # One bad row fails the whole statement: find it by bisection, so one poison event
            # among n costs about 2*log2(n) transactions instead of n.
            log.warning("batch failed; bisecting", extra={"error": _detail(exc)[:300], "changes": len(changes)})
            self._isolate_rejected(changes, result)
            if self.dead_letter is not None:
                self.dead_letter(result.poison)
            self._commit([], seen, result)
        return result

    def _isolate_rejected(self, changes: list[_Change], result: ApplyResult) -> None:
        """Apply `changes` in halves, recursively; a single change the target rejects is poison."""
        try:
            self._commit(changes, [], result)
        except DatabaseError as exc:
            if _transient(exc):
                raise
            if len(changes) == 1:
                result.poison.append((changes[0].event, PoisonEvent("target-rejected", _detail(exc)[:500])))
                return
            middle = len(changes) // 2
            self._isolate_rejected(changes[:middle], result)
            self._isolate_rejected(changes[middle:], result)

    def _commit(self, changes: list[_Change], events: list[ChangeEvent], result: ApplyResult) -> None:
        """Write in one transaction (retried when the connection fails); the counts reach `result`
        only once it committed, so a rolled-back or retried attempt is not counted."""
        done: list[ApplyResult] = []

        def work(conn: Connection) -> None:
            done.clear()
            attempt = ApplyResult()
            if changes:
                self._write(conn, changes, attempt)
            if events:
                self._record_progress(conn, events, attempt)
            done.append(attempt)

        self._with_retry(work)
        self.transactions += 1
        attempt = done[0]
        result.applied += attempt.applied
        result.skipped_older += attempt.skipped_older
        if attempt.last_lsn is not None and (result.last_lsn is None or attempt.last_lsn > result.last_lsn):
            result.last_lsn, result.last_source_ts_ms = attempt.last_lsn, attempt.last_source_ts_ms

    # -- internals -------------------------------------------------------------------------
    def resume_offsets(self) -> dict[tuple[str, int], tuple[int, str | None]]:
        """(topic, partition) -> (last applied offset, epoch) for this consumer."""
        with self.engine.connect() as conn:
            rows: Sequence[tuple[str, int, int, str | None]] = conn.execute(select(consumer_progress.c.topic, consumer_progress.c.kafka_partition,
                                       consumer_progress.c.kafka_offset, consumer_progress.c.epoch)
                                .where(consumer_progress.c.consumer == self.consumer_name)).all()
        return {(t, p): (o, e) for t, p, o, e in rows}

    def _with_retry(self, work) -> None:
        for attempt in Retrying(retry=retry_if_exception(_transient), wait=wait_exponential(multiplier=0.2, max=5),
                                stop=stop_after_attempt(30), reraise=True):
            with attempt:
                with self.engine.begin() as conn:
                    work(conn)

    def _write(self, conn: Connection, changes: list[_Change], result: ApplyResult) -> None:
        by_table: dict[str, list[_Change]] = {}
        for change in changes:
            by_table.setdefault(change.bound.name, []).append(change)
        raw = _psycopg_connection(conn)
        for name, items in by_table.items():
            bound = items[0].bound
            positioned = [c for c in items if c.event.lsn is not None]
            if raw is not None and len(positioned) >= COPY_THRESHOLD:
                newer = self._copy_positions(raw, name, positioned)
            else:
                newer = self._upsert_positions(conn, name, positioned)
            fresh = [c for c in items if c.event.lsn is None or c.key_text in newer]
            result.skipped_older += len(items) - len(fresh)
            self._upsert(conn, bound, [c for c in fresh if c.op != "d"])
            self._delete(conn, bound, [c for c in fresh if c.op == "d"])
            result.applied += len(fresh)

    @staticmethod
    def _upsert_positions(conn: Connection, name: str, changes: list[_Change]) -> set[str]:
        """Record the changes' LSNs where they are not older than the row's; returns the keys of
        those rows (the ones to write)."""
        if not changes:
            return set()
        insert = pg_insert(row_position)
        stmt = insert.on_conflict_do_update(
            index_elements=[row_position.c.target_table, row_position.c.row_key],
            set_={"lsn": insert.excluded.lsn, "deleted": insert.excluded.deleted},
            where=row_position.c.lsn <= insert.excluded.lsn).returning(row_position.c.row_key)
        rows = [{"target_table": name, "row_key": c.key_text, "lsn": c.event.lsn, "deleted": c.op == "d"}
                for c in changes]
        return set(conn.execute(stmt, rows).scalars())

    def _upsert(self, conn: Connection, bound: BoundMapping, changes: list[_Change]) -> None:
        if not changes:
            return
        # executemany needs one column set per statement; a schema change mid-batch splits it.
        groups: dict[tuple[str, ...], list[dict]] = {}
        for change in changes:
            groups.setdefault(tuple(change.row), []).append(change.row)
        raw = _psycopg_connection(conn)
        for columns, rows in groups.items():
            updates = [c for c in columns if c not in bound.key]
            if (raw is not None and len(rows) >= COPY_THRESHOLD
                    and not any(isinstance(bound.table.c[c].type, JSON) for c in columns)):
                self._copy_upsert(raw, bound, columns, updates, rows)
                continue
            stmt = pg_insert(bound.table)
            set_ = {c: stmt.excluded[c] for c in updates}
            stmt = (stmt.on_conflict_do_update(index_elements=bound.key, set_=set_) if set_
                    else stmt.on_conflict_do_nothing(index_elements=bound.key))
            conn.execute(stmt, rows)

    @staticmethod
    def _copy_upsert(raw: psycopg.Connection, bound: BoundMapping, columns, updates, rows) -> None:
        table = bound.table
        target = psql.Identifier(*([table.schema] if table.schema else []), table.name)
        stage = psql.Identifier(f"_cdc_stage_{table.name}"[:63])
        cols = psql.SQL(", ").join(psql.Identifier(c) for c in columns)
        conflict = psql.SQL(", ").join(psql.Identifier(k) for k in bound.key)
        with raw.cursor() as cur:
            # No constraints on the stage (CTAS copies none): rows may omit target columns.
            cur.execute(psql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} AS SELECT * FROM {} WITH NO DATA").format(stage, target))
            cur.execute(psql.SQL("TRUNCATE {}").format(stage))
            with cur.copy(psql.SQL("COPY {} ({}) FROM STDIN").format(stage, cols)) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
            action = (psql.SQL("DO UPDATE SET {}").format(psql.SQL(", ").join(
                psql.SQL("{0} = EXCLUDED.{0}").format(psql.Identifier(c)) for c in updates))
                if updates else psql.SQL("DO NOTHING"))
            cur.execute(psql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
                target, cols, cols, stage, conflict, action))

    @staticmethod
    def _copy_positions(raw: psycopg.Connection, name: str, changes: list[_Change]) -> set[str]:
        """_upsert_positions for a large batch, through COPY."""
        with raw.cursor() as cur:
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS _cdc_stage_positions "
                        "(target_table text, row_key text, lsn bigint, deleted boolean)")
            cur.execute("TRUNCATE _cdc_stage_positions")
            with cur.copy("COPY _cdc_stage_positions (target_table, row_key, lsn, deleted) FROM STDIN") as copy:
                for c in changes:
                    copy.write_row((name, c.key_text, c.event.lsn, c.op == "d"))
            cur.execute("INSERT INTO cdc_row_position (target_table, row_key, lsn, deleted) "
                        "SELECT target_table, row_key, lsn, deleted FROM _cdc_stage_positions "
                        "ON CONFLICT (target_table, row_key) DO UPDATE SET lsn = EXCLUDED.lsn, deleted = EXCLUDED.deleted "
                        "WHERE cdc_row_position.lsn <= EXCLUDED.lsn RETURNING row_key")
            return {row_key for (row_key,) in cur.fetchall()}

    @staticmethod
    def _delete(conn: Connection, bound: BoundMapping, changes: list[_Change]) -> None:
        if not changes:
            return
        columns = [bound.table.c[k] for k in bound.key]
        if len(columns) == 1:
            condition = columns[0].in_([c.key[0] for c in changes])
        else:
            condition = tuple_(*columns).in_([c.key for c in changes])
        conn.execute(delete(bound.table).where(condition))

    def _record_progress(self, conn: Connection, events: list[ChangeEvent], result: ApplyResult | None = None) -> None:
        latest: dict[tuple[str, int], ChangeEvent] = {}
        for event in events:
            slot = (event.topic, event.partition)
            if slot not in latest or event.offset > latest[slot].offset:
                latest[slot] = event
        if not latest:
            return
        rows = []
        for (topic, partition), event in latest.items():
            rows.append({"consumer": self.consumer_name, "topic": topic, "kafka_partition": partition,
                         "kafka_offset": event.offset, "lsn": event.lsn, "source_ts_ms": event.source_ts_ms,
                         "epoch": self.epoch})
            if result is not None and event.lsn is not None and (result.last_lsn is None or event.lsn > result.last_lsn):
                result.last_lsn, result.last_source_ts_ms = event.lsn, event.source_ts_ms
        stmt = pg_insert(consumer_progress)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[consumer_progress.c.consumer, consumer_progress.c.topic, consumer_progress.c.kafka_partition],
            set_={"kafka_offset": stmt.excluded.kafka_offset, "epoch": stmt.excluded.epoch,
                  "lsn": stmt.excluded.lsn, "source_ts_ms": stmt.excluded.source_ts_ms,
                  "applied_at": func.now()}), rows)


def _row_decoder(bound: BoundMapping) -> RowDecoder[_Change]:
    """prepare()'s decoder for one mapped topic: the target row, its key, and the row's slot."""
    name, target_row, key_of = bound.name, bound.target_row, bound.key_of

    def decode(event: ChangeEvent) -> tuple[tuple[str, str], _Change]:
        source = event.row
        if source is None:
            raise PoisonEvent("no-row-image", f"op={event.op}")
        row = target_row(source)
        key = key_of(row)
        key_text = row_key_text(key)
        return (name, key_text), _Change(bound, key, key_text, event.op, row, event)

    return decode


def _psycopg_connection(conn: Connection) -> psycopg.Connection | None:
    """The psycopg 3 connection under a SQLAlchemy connection, if that is the driver."""
    driver = conn.connection.driver_connection
    return driver if isinstance(driver, psycopg.Connection) else None
