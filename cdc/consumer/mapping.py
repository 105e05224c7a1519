"""Declarative topic -> target table mapping.

A service lists the source tables it mirrors and where they land:

    TopicMap(topic_prefix="vobe", tables=[
        TableMapping("public.catalog_track", "tracks", rename={"duration_ms": "length_ms"}),
        TableMapping("public.catalog_artist", "artists", exclude={"bio"}),
    ])

Columns are not listed: each target table is reflected from the database, and every source field
whose (renamed) name is a target column is applied, converted to that column's type. Source
columns the target lacks are ignored, so a column added to the monolith does not break a
consumer; a target column the source lacks keeps its default. The target's primary key (same IDs
as the monolith) is the upsert key unless `key` names other columns."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Engine

from cdc.consumer.envelope import ChangeEvent, PoisonEvent
from cdc.consumer.value_decoding import Converter, converter_for

log = logging.getLogger("cdc.consumer.mapping")

Transform = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class TableMapping:
    source: str                                   # schema.table in the monolith, e.g. public.catalog_track
    target: str                                   # target table, optionally schema-qualified
    rename: Mapping[str, str] = field(default_factory=dict)    # source column -> target column
    exclude: frozenset[str] | set[str] = frozenset()            # source columns never applied
    key: tuple[str, ...] | None = None            # target key columns (default: target primary key)
    transform: Transform | None = None            # optional row -> row hook after renaming

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> "TableMapping":
        return cls(spec["source"], spec["target"], dict(spec.get("rename", {})), frozenset(spec.get("exclude", ())),
                   tuple(spec["key"]) if spec.get("key") else None)


@dataclass(frozen=True)
class TopicMap:
    topic_prefix: str
    tables: list[TableMapping]

    def topic(self, mapping: TableMapping) -> str:
        return f"{self.topic_prefix}.{mapping.source}"

    @property
    def topics(self) -> list[str]:
        return [self.topic(m) for m in self.tables]

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> "TopicMap":
        """From a dict / JSON document: {"topic_prefix": "vobe", "tables": [{"source":..., "target":...}]}."""
        return cls(spec["topic_prefix"], [TableMapping.from_dict(t) for t in spec["tables"]])

    @classmethod
    def from_json(cls, path) -> "TopicMap":
        with open(path) as handle:
            return cls.from_dict(json.load(handle))

    @classmethod
    def mirror(cls, topic_prefix: str, sources: Iterable[str], target_prefix: str = "") -> "TopicMap":
        """Same-named replica tables: public.catalog_track -> <target_prefix>catalog_track."""
        return cls(topic_prefix, [TableMapping(s, target_prefix + s.split(".", 1)[1]) for s in sources])


_PARTIAL = object()     # a row plan's marker: some source field is not a target column


class BoundMapping:
    """A TableMapping resolved against the reflected target table."""

    def __init__(self, mapping: TableMapping, table: Table):
        self.mapping = mapping
        self.table = table
        self.name = table.fullname
        self.key = list(mapping.key or [c.name for c in table.primary_key.columns])
        if not self.key:
            raise ValueError(f"target table {table.fullname} has no primary key and the mapping names no key")
        self._columns: dict[str, tuple[str, Converter | None]] = {}
        for column in table.columns:
            self._columns[column.name] = (column.name, converter_for(column.type))
        self._ignored_logged: set[str] = set()
        self._plans: dict[tuple[str, ...], Any] = {}

    def target_row(self, source_row: dict[str, Any]) -> dict[str, Any]:
        """Rename, drop, convert: the source row as values for the target table's columns."""
        mapping = self.mapping
        if not mapping.rename and not mapping.exclude and mapping.transform is None:
            return self._converted(source_row)     # the common case, once per event: no copy
        renamed: dict[str, Any] = {}
        for name, value in source_row.items():
            if name in mapping.exclude:
                continue
            renamed[mapping.rename.get(name, name)] = value
        if mapping.transform is not None:
            renamed = mapping.transform(renamed)
        return self._converted(renamed)

    def _converted(self, source_row: dict[str, Any]) -> dict[str, Any]:
        # Rows of one table come with the same fields in the same order. When every field is a
        # target column, copy the dict (in C) and convert only the fields that need it, instead
        # of rebuilding it field by field in Python.
        names = tuple(source_row)
        plan = self._plans.get(names)
        if plan is None:
            plan = self._plans[names] = self._plan(names)
        if plan is not _PARTIAL:
            row = source_row.copy()
            for name, converter in plan:
                value = row[name]
                if value is not None:
                    try:
                        row[name] = converter(value)
                    except PoisonEvent:
                        raise
                    except (ValueError, TypeError, OverflowError) as exc:
                        raise PoisonEvent("bad-value", f"{name}={value!r}: {exc}") from exc
            return row
        return self._converted_each(source_row)

    def _plan(self, names: tuple[str, ...]):
        """The (field, converter) pairs to run on a copy, or _PARTIAL when some field is not a
        target column (then rows are built field by field)."""
        if any(name not in self._columns for name in names):
            return _PARTIAL
        return [(name, self._columns[name][1]) for name in names if self._columns[name][1] is not None]

    def _converted_each(self, source_row: dict[str, Any]) -> dict[str, Any]:
        columns = self._columns
        row: dict[str, Any] = {}
        for name, value in source_row.items():
            target = columns.get(name)
            if target is None:
                if name not in self._ignored_logged:
                    self._ignored_logged.add(name)
                    log.info("source column not in target; ignored", extra={"table": self.name, "column": name})
                continue
            column, converter = target
            if value is not None and converter is not None:
                try:
                    value = converter(value)
                except PoisonEvent:
                    raise
                except (ValueError, TypeError, OverflowError) as exc:
                    raise PoisonEvent("bad-value", f"{column}={value!r}: {exc}") from exc
            row[column] = value
        return row

    def key_of(self, row: dict[str, Any]) -> tuple:
        try:
            return tuple(row[k] for k in self.key)
        except KeyError as exc:
            raise PoisonEvent("missing-key-column", f"{self.name}.{exc.args[0]}") from exc


def bind(topic_map: TopicMap, engine: Engine) -> dict[str, BoundMapping]:
    """Reflect every target table once; topic -> BoundMapping."""
    metadata = MetaData()
    bound: dict[str, BoundMapping] = {}
    for mapping in topic_map.tables:
        schema, _, name = mapping.target.rpartition(".")
        table = Table(name, metadata, autoload_with=engine, schema=schema or None)
        bound[topic_map.topic(mapping)] = BoundMapping(mapping, table)
    return bound


def row_key_text(key: tuple) -> str:
    """The bookkeeping key of a row: its key values as compact JSON."""
    if len(key) == 1 and type(key[0]) is int:
        return str(key[0])      # what json.dumps gives, without its cost (the common bigint id)
    return json.dumps(key[0] if len(key) == 1 else list(key), default=str, separators=(",", ":"))


def event_row(bound: BoundMapping, event: ChangeEvent) -> dict[str, Any]:
    source = event.row
    if source is None:
        raise PoisonEvent("no-row-image", f"op={event.op}")
    return bound.target_row(source)
