"""Exact `count` values for paginated lists without counting on every request.

DRF's pagination counts the whole filtered list for every page; on a large table that count is the
most expensive query of a list request. Counts are cached per count statement (its structure and
parameters) together with the data versions of the tables it reads, and reused only while those
versions are unchanged, so a cached count is always the count the query would return now.

The versions live in a table `(table_name, version)` that the service's own triggers set in the
same transaction as every change (see the service's migration; the writing transaction's id is a
good version): a change is visible exactly when its new version is, whichever path wrote it (API,
CDC apply, snapshot copy). The cache is per process; a database restored from a backup under a
running process can repeat old versions, so restart the service after a restore."""
from __future__ import annotations

from collections import OrderedDict
from typing import Hashable

from sqlalchemy import Select, text
from sqlalchemy.sql.util import find_tables


class CountCache:
    def __init__(self, version_table: str, max_entries: int = 4096):
        self._versions_sql = text(f"SELECT table_name, version FROM {version_table}")
        self._max_entries = max_entries
        # key -> (tables counted, their versions when counted, count)
        self._entries: OrderedDict[Hashable, tuple[tuple[str, ...], tuple, int]] = OrderedDict()

    def _tables_of(self, stmt: Select) -> tuple[str, ...]:
        # Joins are walked into (their tables are found too), not named: a Join has no name.
        found = find_tables(stmt, include_aliases=True)
        return tuple(sorted({getattr(t, "element", t).name for t in found}))

    async def count(self, session, stmt: Select, key: Hashable = None) -> int:
        """The count `stmt` returns now. `key` identifies what it counts (e.g. the request's path and
        filters); by default the statement's structure and parameters (costlier to compute)."""
        if key is None:
            cache_key = stmt._generate_cache_key()     # SQLAlchemy's own statement-cache key
            if cache_key is None:
                raise ValueError("statement has no SQLAlchemy cache key: pass `key` explicitly")
            key = cache_key.key, tuple(repr(p.effective_value) for p in cache_key.bindparams)
        versions = dict((await session.execute(self._versions_sql)).all())
        cached = self._entries.get(key)
        if cached is not None:
            tables, seen, total = cached
            if tuple(versions.get(name) for name in tables) == seen:
                self._entries.move_to_end(key)
                return total
        tables = cached[0] if cached is not None else self._tables_of(stmt)
        current = tuple(versions.get(name) for name in tables)
        total = (await session.execute(stmt)).scalar_one()
        if None not in current:
            self._entries[key] = (tables, current, total)
            self._entries.move_to_end(key)
            if len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return total
