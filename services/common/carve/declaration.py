"""What a carved domain is: the monolith tables it mirrors and what it may write back.

A service declares its domain once (services/<domain>/domain.py); the kit derives everything else
from it: the CDC topic map, the snapshot's columns, the writable set the reverse sync replays, the
id sequences it aligns, the tables whose data versions it tracks, and the key echoes are matched by.

    CATALOG = Domain("catalog", Base, tables=(
        MirroredTable(AccountUser, "accounts_user"),                       # read-only copy
        MirroredTable(Genre, "catalog_genre", writable=True),             # no updated_at: compare-and-set
        MirroredTable(Track, "catalog_track", writable=True),             # updated_at guard
    ))
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Optional

from sqlalchemy import Table


class Overwrite(enum.Enum):
    """How a replay of a service write may overwrite the monolith's row."""

    UPDATED_AT = "updated_at"            # only a row whose updated_at is not newer than the write's
    COMPARE_AND_SET = "compare_and_set"  # only a row still equal to what the service had before


@dataclass(frozen=True)
class MirroredTable:
    model: Any                          # the service's mapped class (its table keeps the monolith's ids)
    source: str                         # the monolith table, e.g. "catalog_track" (schema public)
    columns: Optional[tuple[str, ...]] = None   # the columns taken; default: every column of the model
    writable: bool = False              # written by the service after cutover, replayed into the monolith
    overwrite: Optional[Overwrite] = None       # default: UPDATED_AT where the table has it, else CAS
    schema: str = "public"

    @property
    def table(self) -> Table:
        return self.model.__table__

    @property
    def target(self) -> str:
        """The service's table name. A plain str: Table.name is SQLAlchemy's quoted_name, a str
        subclass that orjson refuses as a dict key (the handover's answer keys sequences by it)."""
        return str(self.table.name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return self.columns or tuple(c.name for c in self.table.columns)

    @property
    def overwrite_rule(self) -> Overwrite:
        if self.overwrite is not None:
            return self.overwrite
        return Overwrite.UPDATED_AT if "updated_at" in self.column_names else Overwrite.COMPARE_AND_SET

    @property
    def has_sequence(self) -> bool:
        """Ids the service hands out itself: an autoincrement integer primary key."""
        key = list(self.table.primary_key.columns)
        return self.writable and len(key) == 1 and key[0].autoincrement is not False


@dataclass(frozen=True)
class Domain:
    name: str                           # "catalog": names the sync tables, metrics, consumer group
    base: Any                           # the service's declarative Base (the sync tables join its metadata)
    tables: tuple[MirroredTable, ...] = field(default_factory=tuple)
    # Data-version tables back the count cache (services/common/count_cache.py); default: writable ones.
    versioned: Optional[tuple[str, ...]] = None

    def __post_init__(self) -> None:
        targets = [t.target for t in self.tables]
        if len(set(targets)) != len(targets) or len({t.source for t in self.tables}) != len(targets):
            raise ValueError(f"domain {self.name}: a table is declared twice")

    # -- derived facts -------------------------------------------------------------------------
    def topic_map(self, prefix: str):
        from cdc.consumer import TableMapping, TopicMap

        return TopicMap(prefix, [TableMapping(f"{t.schema}.{t.source}", t.target) for t in self.tables])

    def topics(self, prefix: str) -> list[str]:
        return self.topic_map(prefix).topics

    @cached_property
    def by_source(self) -> dict[str, MirroredTable]:
        """'public.catalog_track' -> its declaration (the key CDC events carry as event.table)."""
        return {f"{t.schema}.{t.source}": t for t in self.tables}

    @cached_property
    def by_target(self) -> dict[str, MirroredTable]:
        return {t.target: t for t in self.tables}

    @cached_property
    def writable(self) -> dict[str, MirroredTable]:
        """Service table -> declaration, for the tables replayed into the monolith."""
        return {t.target: t for t in self.tables if t.writable}

    @property
    def sequenced(self) -> list[MirroredTable]:
        return [t for t in self.tables if t.has_sequence]

    @property
    def versioned_tables(self) -> tuple[str, ...]:
        return self.versioned if self.versioned is not None else tuple(self.writable)

    # -- names of the kit's tables in the service database ------------------------------------
    def sync_table(self, role: str) -> str:
        return f"{self.name}_{role}"
