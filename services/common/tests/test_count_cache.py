"""services.common.count_cache on a real Postgres: a count is reused while the data versions of the tables it
reads are unchanged, and recounted as soon as one of them changes."""
from __future__ import annotations

import pytest
from sqlalchemy import column, func, select, table, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.common.count_cache import CountCache
from tests.parity.processes import ensure_database

item = table("cc_item", column("id"), column("kind"))
tag = table("cc_tag", column("item_id"))


@pytest.fixture
async def session(pg_port):
    url = ensure_database(pg_port, "common_count_cache", fresh=True)
    engine = create_async_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    async with engine.connect() as conn:
        await conn.execute(text("CREATE TABLE cc_item (id int, kind int)"))
        await conn.execute(text("CREATE TABLE cc_tag (item_id int)"))
        await conn.execute(text("CREATE TABLE cc_version (table_name text PRIMARY KEY, version bigint)"))
        await conn.execute(text("INSERT INTO cc_version VALUES ('cc_item', 1), ('cc_tag', 1)"))
        await conn.execute(text("INSERT INTO cc_item SELECT g, g % 3 FROM generate_series(1, 30) g"))
        await conn.execute(text("INSERT INTO cc_tag SELECT g FROM generate_series(1, 10) g"))
        await conn.commit()
        yield conn
    await engine.dispose()


async def write(conn, sql, bump=None):
    await conn.execute(text(sql))
    if bump:
        await conn.execute(text("UPDATE cc_version SET version = version + 1 WHERE table_name = :t"), {"t": bump})
    await conn.commit()


def count_of(*where):
    return select(func.count()).select_from(item).where(*where)


async def test_reused_while_versions_unchanged_and_recounted_after_a_change(session):
    cache = CountCache("cc_version")
    stmt = count_of(item.c.kind == 0)
    assert await cache.count(session, stmt) == 10
    # A write that does not move the version is invisible: proof the cached count was reused.
    await write(session, "INSERT INTO cc_item VALUES (100, 0)")
    assert await cache.count(session, stmt) == 10
    await write(session, "INSERT INTO cc_item VALUES (101, 0)", bump="cc_item")
    assert await cache.count(session, stmt) == 12
    # An unrelated table's version does not invalidate it.
    await write(session, "DELETE FROM cc_item WHERE id = 100", bump="cc_tag")
    assert await cache.count(session, stmt) == 12


async def test_keys_separate_parameters_and_explicit_keys(session):
    cache = CountCache("cc_version")
    assert await cache.count(session, count_of(item.c.kind == 1)) == 10
    assert await cache.count(session, count_of(item.c.kind > 0)) == 20
    await write(session, "DELETE FROM cc_item WHERE kind = 2")               # no version bump
    assert await cache.count(session, count_of(item.c.kind == 2)) == 0       # other parameter: counted now
    assert await cache.count(session, count_of(item.c.kind > 0)) == 20       # cached
    assert await cache.count(session, count_of(item.c.kind > 0), key="k") == 10
    assert await cache.count(session, count_of(), key="k") == 10              # the key is what identifies it


async def test_joined_tables_are_all_watched(session):
    cache = CountCache("cc_version")
    stmt = select(func.count()).select_from(item.join(tag, tag.c.item_id == item.c.id))
    assert await cache.count(session, stmt) == 10
    await write(session, "INSERT INTO cc_tag VALUES (11)", bump="cc_tag")
    assert await cache.count(session, stmt) == 11
    await write(session, "DELETE FROM cc_item WHERE id = 1", bump="cc_item")
    assert await cache.count(session, stmt) == 10


async def test_tables_without_a_version_are_never_cached(session):
    await write(session, "DELETE FROM cc_version WHERE table_name = 'cc_tag'")
    cache = CountCache("cc_version")
    stmt = select(func.count()).select_from(tag)
    assert await cache.count(session, stmt) == 10
    await write(session, "INSERT INTO cc_tag VALUES (99)")
    assert await cache.count(session, stmt) == 11


async def test_least_recently_used_entry_is_evicted(session):
    cache = CountCache("cc_version", max_entries=1)
    assert await cache.count(session, count_of(), key="a") == 30
    assert await cache.count(session, count_of(), key="b") == 30
    await write(session, "INSERT INTO cc_item VALUES (200, 0)")
    assert await cache.count(session, count_of(), key="b") == 30             # kept
    assert await cache.count(session, count_of(), key="a") == 31             # evicted, counted again
