"""The outbox, filled from the ORM: every insert, update and delete of a writable table's mapped
object is recorded in the same transaction, by SQLAlchemy's mapper persistence events, so no
write path can forget it. Statements that bypass the ORM (bulk UPDATE/DELETE) call `record()`.

Rows written by the CDC apply never pass through here (Core statements on their own engine),
which is half of what keeps changes from looping; echo suppression (forward_sync.py) is the other."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import event, inspect, insert
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


def _before_image(obj, columns) -> dict:
    """The row as it was loaded, from the attributes' history (still there in after_update)."""
    state = inspect(obj)
    before = {}
    for name in columns:
        history = state.attrs[name].history
        before[name] = _jsonable(history.deleted[0] if history.deleted else getattr(obj, name))
    return before


def _changed(obj, columns) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in columns)


def install(domain: Domain) -> None:
    """Record the writable tables' ORM writes in the domain's outbox. Idempotent."""
    outbox = sync_models(domain).outbox.__table__
    for table in domain.writable.values():
        if event.contains(table.model, "after_insert", _hooks(table, outbox)[0]):
            continue
        after_insert, after_update, after_delete = _hooks(table, outbox)
        event.listen(table.model, "after_insert", after_insert)
        event.listen(table.model, "after_update", after_update)
        event.listen(table.model, "after_delete", after_delete)


_HOOKS: dict[tuple[int, int], tuple] = {}


def _hooks(table: MirroredTable, outbox):
    key = (id(table.model), id(outbox))
    if key not in _HOOKS:
        columns = table.column_names
        compare_and_set = table.overwrite_rule is Overwrite.COMPARE_AND_SET

        def after_insert(mapper, connection: Connection, obj) -> None:
            _write(connection, outbox, table.target, obj.id, UPSERT, row_values(obj, columns), None)

        def after_update(mapper, connection: Connection, obj) -> None:
            if not _changed(obj, columns):
                return
            before = _before_image(obj, columns) if compare_and_set else None
            _write(connection, outbox, table.target, obj.id, UPSERT, row_values(obj, columns), before)

        def after_delete(mapper, connection: Connection, obj) -> None:
            _write(connection, outbox, table.target, obj.id, DELETE, None, None)

        _HOOKS[key] = (after_insert, after_update, after_delete)
    return _HOOKS[key]


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
