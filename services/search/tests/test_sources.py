"""The one declaration of search's sources (sources.py) and what is derived from it; the CDC
applier on the shared prepare step; no import cycles inside the service."""
from __future__ import annotations

import ast
from pathlib import Path

from cdc.consumer import ChangeEvent
from services.search import replica, snapshot
from services.search.cdc_consumer import IndexApplier, topic_map
from services.search.index_backend import SearchRequest
from services.search.sources import BY_TABLE, SOURCES
from services.search.tests import source_rows as rows


def test_each_cleaner_returns_exactly_the_declared_columns():
    for change in rows.catalog():
        source = BY_TABLE[change.table]
        assert tuple(source.clean(change.row)) == source.columns, source.table
        assert set(source.references) <= set(source.columns), source.table


def test_topics_snapshot_and_replica_come_from_the_declaration():
    assert topic_map("vobe").topics == [f"vobe.public.{s.table}" for s in SOURCES]
    assert set(replica.TABLES) == {s.entity for s in SOURCES}
    for source in SOURCES:
        table = replica.TABLES[source.entity]
        assert [c.name for c in table.c][5:] == list(source.references)
        assert snapshot._select(source).as_string(None).startswith(
            "SELECT " + ", ".join(f'"{c}"' for c in source.columns))


def change(topic: str, offset: int, op: str, row: dict | None, lsn: int | None, key: dict | None = None):
    key = key if key is not None else ({"id": row["id"]} if row and "id" in row else None)
    return ChangeEvent(topic, 0, offset, key, op, row if op == "d" else None, None if op in ("d", "tombstone") else row,
                       lsn, 1_000 + offset, None, None, None)


def test_index_applier_counts_like_the_runtime_and_applies_the_newest_change(indexer):
    applier = IndexApplier(indexer, topic_prefix="t")
    genre, track = "t.public.catalog_genre", "t.public.catalog_track"
    artist = {"id": 1, "user_id": None, "name": "Portishead", "bio": "", "country": "GB", "image_url": "",
              "created_at": rows.STAMP, "updated_at": rows.STAMP}
    song = {"id": 5, "title": "Roads", "artist_id": 1, "album_id": None, "genre_id": None, "duration_ms": 1,
            "popularity": 1, "tempo": None, "energy": None, "valence": None, "price": "1.00", "file_path": "",
            "created_at": rows.STAMP, "updated_at": rows.STAMP}
    events = [
        change("t.public.catalog_artist", 0, "c", artist, 100),
        change(track, 1, "c", {**song, "title": "Roads (demo)"}, 110),
        change(track, 2, "u", song, 120),
        change(track, 3, "u", {**song, "title": "Roads (older)"}, 115),           # older than 120: loses
        change(genre, 4, "c", {"id": 2, "slug": "trip-hop"}, 130),                  # no name: bad row
        change(genre, 5, "c", {"name": "x", "slug": "x"}, 140, key={}),            # no id anywhere
        change(genre, 6, "tombstone", None, None, key={"id": 9}),
        change("t.cdc.heartbeat", 7, "u", {"id": 1}, 150),
    ]

    result = applier.apply(events)

    assert (result.applied, result.tombstones, result.unmapped) == (4, 1, 1)
    assert [(e.offset, p.reason) for e, p in result.poison] == [(4, "bad-row"), (5, "no-key")]
    assert (result.last_lsn, result.last_source_ts_ms) == (120, 1_002)
    [hit] = indexer.backend.search(SearchRequest("track", ("roads",))).hits
    assert hit["title"] == "Roads" and hit["artist"]["name"] == "Portishead"
    assert applier.resume_offsets() is None         # no progress rows: Kafka's committed offsets


def test_no_import_cycles_inside_the_service():
    package = Path(__file__).resolve().parents[1]
    modules = {".".join(("services", "search", *p.relative_to(package).with_suffix("").parts)): p
               for p in package.rglob("*.py") if "tests" not in p.parts and "alembic" not in p.parts}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):     # function-level imports included
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("services.search"):
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules)
        graph[name] = deps & set(modules) - {name}

    def reachable(start):
        seen, todo = set(), list(graph[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo += graph[node]
        return seen

    assert [name for name in graph if name in reachable(name)] == []
