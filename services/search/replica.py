"""The search service's own copy of the rows its documents are built from (database per service).

Why keep rows at all: a document embeds other rows (a track embeds its artist, album and genre), so
when an artist is renamed the service must re-render that artist's tracks without asking the
monolith. Every row also remembers the source LSN it was written at (a replayed or late event never
overwrites a newer row) and the `seq` of the apply batch that last touched it (an index rebuilt while
events keep arriving catches up with `changed_since`). Deletes leave a tombstone for the same reason.

SQLAlchemy Core, so the same code runs on the service's Postgres database and on SQLite.
"""
from __future__ import annotations

import json
from typing import Iterable, Iterator, Optional

from sqlalchemy import (BigInteger, Boolean, Column, Index, MetaData, Table, Text, create_engine, func,
                        select, update)
from sqlalchemy.engine import Connection, Engine

from services.search.sources import SOURCES

metadata = MetaData()

# entity -> columns referencing other rows (what a change cascades through)
REFERENCES: dict[str, tuple[str, ...]] = {source.entity: source.references for source in SOURCES}


def _entity_table(entity: str) -> Table:
    refs = [Column(name, BigInteger, nullable=True) for name in REFERENCES[entity]]
    table = Table(
        f"replica_{entity}", metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=False),
        Column("lsn", BigInteger, nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("deleted", Boolean, nullable=False, default=False),
        Column("data", Text, nullable=True),
        *refs,
    )
    Index(f"replica_{entity}_seq_idx", table.c.seq)
    for name in REFERENCES[entity]:
        Index(f"replica_{entity}_{name}_idx", table.c[name])
    return table


TABLES: dict[str, Table] = {entity: _entity_table(entity) for entity in REFERENCES}
sequence = Table("replica_sequence", metadata, Column("id", BigInteger, primary_key=True), Column("value", BigInteger))


def _upsert_statement(conn: Connection, table: Table, values: list[dict], keep_references: bool):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(values)
    kept = {"id", *(REFERENCES[table.name.removeprefix("replica_")] if keep_references else ())}
    changed = {c.name: stmt.excluded[c.name] for c in table.c if c.name not in kept}
    # Only a change at least as new as the stored one wins (events replayed after a rebuild, or a
    # snapshot racing the live stream, must not roll a row back).
    return stmt.on_conflict_do_update(index_elements=["id"], set_=changed, where=table.c.lsn <= stmt.excluded.lsn)


class Replica:
    def __init__(self, url_or_engine: str | Engine):
        self.engine = create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine

    def create_schema(self) -> None:
        """Bring the replica's schema to the latest Alembic revision (services/search/alembic)."""
        from pathlib import Path

        from alembic import command
        from alembic.config import Config

        config = Config(str(Path(__file__).with_name("alembic.ini")))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    # -- writes -------------------------------------------------------------------------------
    def next_seq(self, conn: Connection) -> int:
        conn.execute(update(sequence).where(sequence.c.id == 1).values(value=sequence.c.value + 1))
        return conn.execute(select(sequence.c.value).where(sequence.c.id == 1)).scalar_one()

    def write(self, conn: Connection, entity: str, changes: Iterable[tuple[int, int, Optional[dict]]], seq: int) -> None:
        """Upsert `(id, lsn, clean_row)` triples; a None row is a delete (tombstone). A tombstone
        keeps the references the row had (a delete event may not carry them), so the documents that
        embedded the row can still be found."""
        table = TABLES[entity]
        upserts, deletes = [], []
        for pk, lsn, row in changes:
            value = {"id": pk, "lsn": lsn, "seq": seq, "deleted": row is None,
                     "data": None if row is None else json.dumps(row, separators=(",", ":"))}
            for ref in REFERENCES[entity]:
                value[ref] = None if row is None else row.get(ref)
            (deletes if row is None else upserts).append(value)
        for values, keep_references in ((upserts, False), (deletes, True)):
            for start in range(0, len(values), 2000):
                conn.execute(_upsert_statement(conn, table, values[start:start + 2000], keep_references))

    # -- reads --------------------------------------------------------------------------------
    def current_seq(self, conn: Connection) -> int:
        return conn.execute(select(sequence.c.value).where(sequence.c.id == 1)).scalar_one()

    def rows(self, conn: Connection, entity: str, ids: Iterable[int]) -> dict[int, dict]:
        """Live (not deleted) rows by id."""
        ids = list(set(ids))
        table = TABLES[entity]
        found: dict[int, dict] = {}
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            query = select(table.c.id, table.c.data).where(table.c.id.in_(chunk), table.c.deleted.is_(False))
            found.update((pk, json.loads(data)) for pk, data in conn.execute(query))
        return found

    def ids_referencing(self, conn: Connection, entity: str, column: str, ids: Iterable[int]) -> set[int]:
        ids = list(set(ids))
        table = TABLES[entity]
        found: set[int] = set()
        for start in range(0, len(ids), 5000):
            query = select(table.c.id).where(table.c[column].in_(ids[start:start + 5000]), table.c.deleted.is_(False))
            found.update(conn.execute(query).scalars())
        return found

    def references(self, conn: Connection, entity: str, column: str, ids: Iterable[int]) -> set[int]:
        """Values of a reference column for rows by id, tombstones included."""
        table = TABLES[entity]
        ids = list(set(ids))
        found: set[int] = set()
        for start in range(0, len(ids), 5000):
            found.update(conn.execute(select(table.c[column]).where(table.c.id.in_(ids[start:start + 5000]))).scalars())
        found.discard(None)
        return found

    def changed_since(self, conn: Connection, seq: int) -> dict[str, set[int]]:
        """Every row (live or tombstone) written by an apply batch after `seq`."""
        return {entity: set(conn.execute(select(table.c.id).where(table.c.seq > seq)).scalars())
                for entity, table in TABLES.items()}

    def live_ids(self, conn: Connection, entity: str, batch: int = 10_000) -> Iterator[list[int]]:
        """All live ids of an entity in ascending batches (keyset pagination, no long cursor)."""
        table = TABLES[entity]
        last = -1
        while True:
            chunk = list(conn.execute(
                select(table.c.id).where(table.c.id > last, table.c.deleted.is_(False)).order_by(table.c.id).limit(batch)
            ).scalars())
            if not chunk:
                return
            yield chunk
            last = chunk[-1]

    def count(self, conn: Connection, entity: str) -> int:
        table = TABLES[entity]
        return conn.execute(select(func.count()).select_from(table).where(table.c.deleted.is_(False))).scalar_one()

    def entities_with_lsn_below(self, conn: Connection, entity: str, lsn: int) -> list[int]:
        table = TABLES[entity]
        return list(conn.execute(select(table.c.id).where(table.c.lsn < lsn, table.c.deleted.is_(False))).scalars())
