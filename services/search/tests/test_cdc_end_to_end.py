"""The search service on real components: the monolith's database (its migrations), Debezium (the
relay), the Tansu broker, and the service with its CDC feed, replica in Postgres and tantivy index on
disk. Writes are made to the monolith's tables; the service only ever sees the topics."""
from __future__ import annotations

import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient

from cdc.testing import wait_until
# The CDC suite's real-component fixtures (source database, broker, relay), reused as they are.
from cdc.tests.conftest import broker, cdc_workdir, connector, relay, run_id, source, source_url  # noqa: F401
from services.search.app import build_app
from services.search.settings import SearchSettings

pytestmark = pytest.mark.slow


@pytest.fixture
def search_settings(pg_port, tmp_path, broker, connector):  # noqa: F811
    name = f"search_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield SearchSettings(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/{name}", index_dir=tmp_path / "index",
        kafka_bootstrap_servers=broker.bootstrap, topic_prefix=connector.topic_prefix,
        consumer_group=f"search-test-{uuid.uuid4().hex[:8]}",
    )
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def running(settings):
    return TestClient(build_app(settings), base_url="http://testserver")


def track_hits(client, q, **params):
    return client.get("/api/v1/search/tracks/", params={"q": q, **params}).json()["results"]


def eventually(check, message):
    return wait_until(check, 120, 0.2, message)


def test_monolith_writes_updates_renames_and_deletes_reach_the_index(relay, source, search_settings):  # noqa: F811
    word = f"zq{uuid.uuid4().hex[:6]}"  # a word no other test's data contains
    with running(search_settings) as client:
        artist_id = source.execute(
            "INSERT INTO catalog_artist (name, bio, country, image_url, created_at, updated_at) "
            "VALUES (%s, '', 'IS', '', now(), now()) RETURNING id", (f"Artist {word}",)).fetchone()[0]
        album_id = source.execute(
            "INSERT INTO catalog_album (artist_id, title, release_date, cover_image_url, created_at, updated_at) "
            "VALUES (%s, 'Homogenic', '1997-09-22', '', now(), now()) RETURNING id", (artist_id,)).fetchone()[0]
        track_id = source.execute(
            "INSERT INTO catalog_track (title, artist_id, album_id, duration_ms, popularity, price, file_path, "
            "created_at, updated_at) VALUES (%s, %s, %s, 240000, 50, 1.25, '', now(), now()) RETURNING id",
            (f"Hunter {word}", artist_id, album_id)).fetchone()[0]

        # a monolith write becomes searchable, in the monolith's JSON shape
        [hit] = eventually(lambda: track_hits(client, word), "insert searchable")
        assert hit["id"] == track_id and hit["price"] == "1.25" and hit["album"]["release_date"] == "1997-09-22"
        assert hit["artist"] == {"id": artist_id, "name": f"Artist {word}", "country": "IS", "image_url": ""}
        assert hit["created_at"].endswith("Z")

        # an update changes the hit
        source.execute("UPDATE catalog_track SET title = %s WHERE id = %s", (f"Joga {word}", track_id))
        eventually(lambda: [h["title"] for h in track_hits(client, word)] == [f"Joga {word}"], "update applied")
        assert track_hits(client, f"hunter {word}") == []

        # renaming the artist reaches its track and album documents
        source.execute("UPDATE catalog_artist SET name = %s WHERE id = %s", (f"Bjork {word}", artist_id))
        eventually(lambda: [h["artist"]["name"] for h in track_hits(client, f"bjork {word}")] == [f"Bjork {word}"],
                   "artist rename reached the track")
        eventually(lambda: [a["artist"]["name"] for a in client.get(
            "/api/v1/search/albums/", params={"q": f"bjork {word}"}).json()["results"]] == [f"Bjork {word}"],
            "artist rename reached the album")

        # a delete removes it
        source.execute("DELETE FROM catalog_track WHERE id = %s", (track_id,))
        eventually(lambda: track_hits(client, word) == [], "delete applied")

        # malformed queries are clear 400s
        response = client.get("/api/v1/search/tracks/", params={"q": "", "year_min": "x"})
        assert response.status_code == 400 and response.json() == {"q": ["This field may not be blank."]}
        assert client.get("/readyz").json()["cdc"] == "ok"


def test_the_index_survives_a_restart_of_the_service(relay, source, search_settings):  # noqa: F811
    word = f"zr{uuid.uuid4().hex[:6]}"
    with running(search_settings) as client:
        artist_id = source.execute(
            "INSERT INTO catalog_artist (name, bio, country, image_url, created_at, updated_at) "
            "VALUES (%s, '', '', '', now(), now()) RETURNING id", (f"Persistent {word}",)).fetchone()[0]
        eventually(lambda: client.get("/api/v1/search/artists/", params={"q": word}).json()["count"] == 1,
                   "artist searchable")
    # A new process on the same index directory and consumer group: the committed offsets mean
    # nothing is replayed, so a hit right after start can only come from the index on disk.
    restarted = SearchSettings(**{**search_settings.model_dump(), "consume_cdc": False})
    with running(restarted) as client:
        body = client.get("/api/v1/search/artists/", params={"q": word}).json()
        assert [a["id"] for a in body["results"]] == [artist_id]
    with running(search_settings) as client:
        source.execute("UPDATE catalog_artist SET name = %s WHERE id = %s", (f"Renamed {word}", artist_id))
        eventually(lambda: client.get("/api/v1/search/artists/", params={"q": f"renamed {word}"}).json()["count"] == 1,
                   "feed resumes after restart")
