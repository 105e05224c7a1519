"""The declared tables on both databases: row counts and checksums, and the rows that differ."""
from __future__ import annotations

import psycopg

from cdc.testing import wait_until


def checksums(carved, url: str, *, on: str, tables: tuple[str, ...] | None = None) -> dict[str, tuple[int, str]]:
    """(row count, md5 over the rows in id order) per declared table (or of `tables`, service
    names), on the declared columns. `on`: "service" or "monolith" (which table names the database has)."""
    out = {}
    with psycopg.connect(url) as conn:
        for target in tables or carved.tables:
            spec = carved.domain.by_target[target]
            table = target if on == "service" else spec.source
            columns = ", ".join(spec.column_names)
            out[target] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r.id), '')) "
                f"FROM (SELECT {columns} FROM {table}) r").fetchone()
    return out


def differing_rows(carved, monolith_url: str, service_url: str, limit: int = 5) -> dict:
    """Per table, the rows (as text) present on only one side, for a failure message."""
    out = {}
    for target in carved.tables:
        spec = carved.domain.by_target[target]
        columns = ", ".join(spec.column_names)
        rows = []
        for url, table in ((monolith_url, spec.source), (service_url, target)):
            with psycopg.connect(url) as conn:
                rows.append({r[0] for r in conn.execute(f"SELECT r::text FROM (SELECT {columns} FROM {table}) r")})
        if rows[0] != rows[1]:
            out[target] = {"monolith_only": sorted(rows[0] - rows[1])[:limit],
                           "service_only": sorted(rows[1] - rows[0])[:limit]}
    return out


def assert_tables_equal(carved, monolith_url: str, service_url: str, timeout: float = 60) -> None:
    """Every declared table has the same rows on both sides (waits `timeout` s for the last events)."""
    def equal():
        return checksums(carved, monolith_url, on="monolith") == checksums(carved, service_url, on="service")
    try:
        wait_until(equal, timeout, 1, "equal row counts and checksums")
    except AssertionError:
        raise AssertionError(f"monolith and service differ: {differing_rows(carved, monolith_url, service_url)}")
