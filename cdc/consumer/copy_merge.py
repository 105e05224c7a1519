"""A COPY-size batch of one target table in three round trips: create the session's stage table if
missing, COPY the rows into it, and one statement that skips rows older than their recorded
position, upserts, deletes and records the new positions.

The stage is a temporary table with the target's columns (no constraints, so a delete's key-only
before image fits) plus the bookkeeping key, the event's LSN and whether it is a delete. It is
`ON COMMIT DELETE ROWS`: Postgres empties it in place at commit, cheaper than a TRUNCATE per batch
(which gives the table a new file every time). A rolled-back transaction leaves nothing visible in
it, so bisection can reuse it.

The position lookup is a scalar subquery per staged row, on purpose: the stage is never analysed,
and as a join the planner may choose to hash the whole of cdc_row_position for every batch; the
subquery is always an index lookup on its primary key."""
from __future__ import annotations

import weakref
from typing import Any, Protocol, Sequence

import psycopg
from psycopg import sql as psql

from cdc.consumer.mapping import BoundMapping

ROW_KEY, LSN, DELETE = "_cdc_row_key", "_cdc_lsn", "_cdc_delete"


class StagedChange(Protocol):
    key_text: str
    op: str
    values: list[Any]
    event: Any


_statements: "weakref.WeakKeyDictionary[BoundMapping, dict[tuple, tuple[str, str, str]]]" = weakref.WeakKeyDictionary()


def copy_merge(raw: psycopg.Connection, bound: BoundMapping, columns: tuple[str, ...],
               changes: Sequence[StagedChange], staged: set[str]) -> int:
    """Apply `changes` (one row each, all with `columns`) inside the caller's transaction; returns
    how many were applied, the rest being older than what the target already reflects.
    `staged` names the stages filled earlier in the same transaction (they are emptied first)."""
    upserts = any(c.op != "d" for c in changes)
    deletes = any(c.op == "d" for c in changes)
    create, copy_into, merge = _statements_for(raw, bound, columns, upserts, deletes)
    with raw.cursor() as cur:
        if bound.name in staged:       # a second column set of this table in one transaction
            cur.execute(create + "; TRUNCATE " + _stage(bound).as_string(raw))
        else:
            cur.execute(create)
        staged.add(bound.name)
        with cur.copy(copy_into) as copy:
            write = copy.write_row
            for change in changes:
                write((*change.values, change.key_text, change.event.lsn, change.op == "d"))
        cur.execute(merge)
        return cur.fetchone()[0]


def _stage(bound: BoundMapping) -> psql.Identifier:
    return psql.Identifier(f"_cdc_merge_{bound.table.name}"[:63])


def _statements_for(raw: psycopg.Connection, bound: BoundMapping, columns: tuple[str, ...],
                    upserts: bool, deletes: bool) -> tuple[str, str, str]:
    cache = _statements.setdefault(bound, {})
    shape = (columns, upserts, deletes)
    found = cache.get(shape)
    if found is None:
        found = cache[shape] = tuple(q.as_string(raw) for q in _compose(bound, columns, upserts, deletes))
    return found


def _compose(bound: BoundMapping, columns: tuple[str, ...], upserts: bool, deletes: bool):
    table = bound.table
    target = psql.Identifier(*([table.schema] if table.schema else []), table.name)
    stage = _stage(bound)
    name = psql.Literal(bound.name)
    cols = psql.SQL(", ").join(psql.Identifier(c) for c in columns)
    extra = psql.SQL(", ").join(psql.Identifier(c) for c in (ROW_KEY, LSN, DELETE))
    create = psql.SQL(
        "CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS SELECT *, NULL::text AS {key}, "
        "NULL::bigint AS {lsn}, NULL::boolean AS {delete} FROM {target} WITH NO DATA").format(
        stage=stage, target=target, key=psql.Identifier(ROW_KEY), lsn=psql.Identifier(LSN),
        delete=psql.Identifier(DELETE))
    copy_into = psql.SQL("COPY {} ({}, {}) FROM STDIN").format(stage, cols, extra)

    parts = [psql.SQL(
        "fresh AS MATERIALIZED (SELECT * FROM {stage} s WHERE s.{lsn} IS NULL OR s.{lsn} >= COALESCE("
        "(SELECT p.lsn FROM cdc_row_position p WHERE p.target_table = {name} AND p.row_key = s.{key}), -1))").format(
        stage=stage, lsn=psql.Identifier(LSN), name=name, key=psql.Identifier(ROW_KEY))]
    if upserts:
        updates = [c for c in columns if c not in bound.key]
        action = (psql.SQL("DO UPDATE SET {}").format(psql.SQL(", ").join(
            psql.SQL("{0} = EXCLUDED.{0}").format(psql.Identifier(c)) for c in updates))
            if updates else psql.SQL("DO NOTHING"))
        parts.append(psql.SQL(
            "upserted AS (INSERT INTO {target} ({cols}) SELECT {cols} FROM fresh WHERE NOT {delete} "
            "ON CONFLICT ({conflict}) {action})").format(
            target=target, cols=cols, delete=psql.Identifier(DELETE), action=action,
            conflict=psql.SQL(", ").join(psql.Identifier(k) for k in bound.key)))
    if deletes:
        parts.append(psql.SQL("deleted AS (DELETE FROM {target} AS t USING fresh f WHERE f.{delete} AND {match})").format(
            target=target, delete=psql.Identifier(DELETE),
            match=psql.SQL(" AND ").join(psql.SQL("t.{0} = f.{0}").format(psql.Identifier(k)) for k in bound.key)))
    parts.append(psql.SQL(
        "positioned AS (INSERT INTO cdc_row_position (target_table, row_key, lsn, deleted) "
        "SELECT {name}, {key}, {lsn}, {delete} FROM fresh WHERE {lsn} IS NOT NULL "
        "ON CONFLICT (target_table, row_key) DO UPDATE SET lsn = EXCLUDED.lsn, deleted = EXCLUDED.deleted "
        "WHERE cdc_row_position.lsn <= EXCLUDED.lsn)").format(
        name=name, key=psql.Identifier(ROW_KEY), lsn=psql.Identifier(LSN), delete=psql.Identifier(DELETE)))
    merge = psql.SQL("WITH {} SELECT count(*) FROM fresh").format(psql.SQL(", ").join(parts))
    return create, copy_into, merge
