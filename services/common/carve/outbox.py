"""The outbox, filled from the ORM: every insert, update and delete of a writable table's mapped
object is recorded in the same transaction, by SQLAlchemy's mapper persistence events, so no
write path can forget it. Statements that bypass the ORM (bulk UPDATE/DELETE) call `record()`.

Rows written by the CDC apply never pass through here (Core statements on their own engine),
which is half of what keeps changes from looping; echo suppression (forward_sync.py) is the other."""
from __future__ import annotations

import datetime as dt
import weakref
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import event, inspect, insert, select
from sqlalchemy.engine import Connection

from services.common.carve.declaration import Domain, MirroredTable, Overwrite
from services.common.carve.sync_tables import sync_models

UPSERT, DELETE = "upsert", "delete"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_values(obj, columns) -> dict:
    return {name: _jsonable(getattr(obj, name)) for name in columns}


# An updated object's row as the database had it just before the UPDATE (compare-and-set tables).
_BEFORE: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def _changed(obj, columns) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in columns)


def install(domain: Domain) -> None:
    """Record the writable tables' ORM writes in the domain's outbox. Idempotent."""
    outbox = sync_models(domain).outbox.__table__
    for table in domain.writable.values():
        hooks = _hooks(table, outbox)
        for name, hook in hooks.items():
            if not event.contains(table.model, name, hook):
                event.listen(table.model, name, hook)


_HOOKS: dict[tuple[int, int], dict] = {}


def _hooks(table: MirroredTable, outbox) -> dict:
    key = (id(table.model), id(outbox))
    if key in _HOOKS:
        return _HOOKS[key]
    columns = table.column_names
    selected = [table.table.c[name] for name in columns]
    hooks = {}

    def after_insert(mapper, connection: Connection, obj) -> None:
        _write(connection, outbox, table.target, obj.id, UPSERT, row_values(obj, columns), None)

    def after_delete(mapper, connection: Connection, obj) -> None:
        _write(connection, outbox, table.target, obj.id, DELETE, None, None)

    if table.overwrite_rule is Overwrite.COMPARE_AND_SET:
        # The before image is read from the database, not from attribute history: history has no
        # old value for an attribute that was expired or never loaded, and a wrong image would
        # make the replay's compare-and-set refuse the write silently.
        def before_update(mapper, connection: Connection, obj) -> None:
            row = connection.execute(select(*selected).where(table.table.c.id == obj.id)).mappings().first()
            if row is not None:
                _BEFORE[obj] = {name: _jsonable(row[name]) for name in columns}

        def after_update(mapper, connection: Connection, obj) -> None:
            before, now = _BEFORE.pop(obj, None), row_values(obj, columns)
            if before != now:
                _write(connection, outbox, table.target, obj.id, UPSERT, now, before)

        hooks["before_update"] = before_update
    else:
        def after_update(mapper, connection: Connection, obj) -> None:
            if _changed(obj, columns):
                _write(connection, outbox, table.target, obj.id, UPSERT, row_values(obj, columns), None)

    hooks.update(after_insert=after_insert, after_update=after_update, after_delete=after_delete)
    _HOOKS[key] = hooks
    return hooks


def _write(connection: Connection, outbox, table_name: str, row_id: int, op: str, row: Optional[dict],
           before: Optional[dict]) -> None:
    connection.execute(insert(outbox).values(table_name=table_name, row_id=row_id, op=op, row=row, before=before))


async def record(session, domain: Domain, table_name: str, row_id: int, op: str, row: Optional[dict] = None,
                 before: Optional[dict] = None) -> None:
    """For writes made with bulk statements, which the mapper events do not see."""
    if table_name not in domain.writable:
        raise ValueError(f"{table_name} is not a writable table of {domain.name}")
    outbox = sync_models(domain).outbox.__table__
    await session.execute(insert(outbox).values(table_name=table_name, row_id=row_id, op=op, row=row, before=before))
