"""List counts are reused while the counted tables are unchanged, and exact after any change,
whichever path made it (here: plain SQL, as the CDC apply and the snapshot copy write)."""
from __future__ import annotations

import psycopg
from sqlalchemy import event

LIST = "/api/v1/tracks/?popularity_min=10&year_min=1900"


def count_queries(engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT COUNT("):
            seen.append(statement)

    return seen


async def test_count_is_reused_until_a_counted_table_changes(databases, client):
    from services.catalog.database import database

    _, catalog = databases
    seen = count_queries(database().engine)
    first = (await client.get(LIST)).json()["count"]
    assert len(seen) == 1
    assert (await client.get(LIST)).json()["count"] == first
    assert len(seen) == 1, "the unchanged count was counted again"

    with psycopg.connect(catalog) as conn:       # a change to another table leaves it alone
        conn.execute("UPDATE catalog_artist SET bio = bio WHERE id = (SELECT min(id) FROM catalog_artist)")
    assert (await client.get(LIST)).json()["count"] == first
    assert len(seen) == 1

    with psycopg.connect(catalog) as conn:       # one more track in the list
        conn.execute("INSERT INTO catalog_track (id, title, artist_id, album_id, genre_id, duration_ms, popularity, "
                     "price, file_path, created_at, updated_at) SELECT 10000001, 'Counted', artist_id, id, NULL, "
                     "200000, 50, 1, '', now(), now() FROM catalog_album WHERE release_date IS NOT NULL LIMIT 1")
    assert (await client.get(LIST)).json()["count"] == first + 1
    with psycopg.connect(catalog) as conn:       # its album leaves the year range: a change to the joined table
        conn.execute("UPDATE catalog_album SET release_date = '1800-01-01' "
                     "WHERE id = (SELECT album_id FROM catalog_track WHERE id = 10000001)")
        moved = conn.execute("SELECT count(*) FROM catalog_track t JOIN catalog_album a ON a.id = t.album_id "
                             "WHERE a.release_date >= '1900-01-01' AND t.popularity >= 10").fetchone()[0]
    assert (await client.get(LIST)).json()["count"] == moved < first + 1
    with psycopg.connect(catalog) as conn:       # TRUNCATE (a snapshot reload) too
        conn.execute("TRUNCATE catalog_track")
    assert (await client.get(f"{LIST}&page=last")).status_code == 200
    assert len(seen) == 4
    # (and the now empty list's first page is counted by its rows alone)
    assert (await client.get(LIST)).json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert len(seen) == 4


async def test_a_short_first_page_is_not_counted(databases, client):
    from services.catalog.database import database

    seen = count_queries(database().engine)
    with psycopg.connect(databases[1]) as conn:
        artist = conn.execute("SELECT artist_id FROM catalog_album GROUP BY artist_id HAVING count(*) > 1 "
                              "ORDER BY artist_id LIMIT 1").fetchone()[0]
    body = (await client.get(f"/api/v1/artists/{artist}/albums/")).json()
    assert body["count"] == len(body["results"]) > 1 and body["next"] is None
    assert seen == []
    body = (await client.get("/api/v1/albums/?page_size=1")).json()
    assert body["count"] > 1 and len(body["results"]) == 1 and body["next"].endswith("page=2&page_size=1")
    assert len(seen) == 1


async def test_an_artists_albums_carry_their_count_in_the_page_query(databases, client):
    from services.catalog.database import database

    seen = count_queries(database().engine)
    with psycopg.connect(databases[1]) as conn:
        artist, albums = conn.execute("SELECT artist_id, count(*) FROM catalog_album GROUP BY artist_id "
                                      "HAVING count(*) > 2 ORDER BY artist_id LIMIT 1").fetchone()
    first = (await client.get(f"/api/v1/artists/{artist}/albums/?page_size=1")).json()
    assert first["count"] == albums and len(first["results"]) == 1 and first["next"].endswith("page=2&page_size=1")
    last = (await client.get(f"/api/v1/artists/{artist}/albums/?page_size=1&page={albums}")).json()
    assert last["count"] == albums and last["next"] is None and last["previous"].endswith(f"page={albums - 1}&page_size=1")
    beyond = await client.get(f"/api/v1/artists/{artist}/albums/?page_size=1&page={albums + 1}")
    assert beyond.status_code == 404 and beyond.json() == {"detail": "Invalid page."}
    assert seen == []
