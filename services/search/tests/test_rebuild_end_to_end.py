"""`python -m services.search.rebuild --from topics` and `--from snapshot` on real components: the
monolith's database, Debezium, Tansu. Both commands run as the operator runs them (a child process,
progress bar on stderr) into their own replica database and index; the two indexes must hold the same
documents, and those must reflect every insert, update, rename and delete made to the monolith."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient

from cdc.testing import wait_until
# The CDC suite's real-component fixtures (source database, broker, relay), reused as they are.
from cdc.tests.conftest import broker, cdc_workdir, connector, relay, run_id, source, source_url  # noqa: F401
from services.search.app import build_app
from services.search.documents import KINDS
from services.search.index_backend import SearchRequest
from services.search.settings import ROOT, SearchSettings
from services.search.tantivy_backend import TantivyBackend

pytestmark = pytest.mark.slow


@pytest.fixture
def databases(pg_port):
    names = [f"search_rebuild_{uuid.uuid4().hex[:8]}" for _ in range(3)]
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    yield [f"postgresql+psycopg://postgres@127.0.0.1:{pg_port}/{name}" for name in names]
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_to_the_monolith(source, word: str) -> dict:  # noqa: F811
    """Inserts, an update, an artist rename and deletes: what a replay must reproduce."""
    def insert(sql, *params):
        return source.execute(sql, params).fetchone()[0]

    artist = insert("INSERT INTO catalog_artist (name, bio, country, image_url, created_at, updated_at) "
                    "VALUES (%s, '', 'IS', '', now(), now()) RETURNING id", f"Singer {word}")
    album = insert("INSERT INTO catalog_album (artist_id, title, release_date, cover_image_url, created_at, "
                   "updated_at) VALUES (%s, %s, '2001-08-27', '', now(), now()) RETURNING id", artist, f"Vespertine {word}")
    tracks = [insert("INSERT INTO catalog_track (title, artist_id, album_id, duration_ms, popularity, price, file_path, "
                     "created_at, updated_at) VALUES (%s, %s, %s, 200000, %s, 0.99, '', now(), now()) RETURNING id",
                     f"{title} {word}", artist, album, popularity)
              for popularity, title in enumerate(["Hidden Place", "Cocoon", "Pagan Poetry", "Aurora"])]
    source.execute("UPDATE catalog_track SET title = %s WHERE id = %s", (f"Cocoon Reprise {word}", tracks[1]))
    source.execute("UPDATE catalog_artist SET name = %s WHERE id = %s", (f"Bjork {word}", artist))
    source.execute("DELETE FROM catalog_track WHERE id = %s", (tracks[3],))
    user = insert("INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, "
                  "is_staff, is_active, date_joined, role) VALUES ('x', false, %s, '', '', %s, false, true, now(), "
                  "'user') RETURNING id", f"writer{word}", f"{word}@example.com")
    insert("INSERT INTO content_post (author_id, title, body, is_published, published_at, created_at, updated_at) "
           "VALUES (%s, %s, 'notes', true, now(), now(), now()) RETURNING id", user, f"Liner notes {word}")
    return {"artist": artist, "tracks": tracks}


def feed_has_caught_up(settings: SearchSettings, marker: str) -> None:
    """The live service's CDC feed has seen the last write: every event before it is on the topics."""
    with TestClient(build_app(settings)) as client:
        wait_until(lambda: client.get("/api/v1/search/posts/", params={"q": marker}).json()["count"] == 1,
                   120, 0.2, "the last write reached the topics")


def run_rebuild(database_url: str, index_dir, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.search.rebuild", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "SEARCH_DATABASE_URL": database_url,
             "SEARCH_INDEX_DIR": str(index_dir), **env},
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=True)


def every_document(index_dir) -> dict[str, dict[int, dict]]:
    backend = TantivyBackend(index_dir)
    backend.open()
    try:
        # No words: every document of the kind (the HTTP layer never sends an empty query).
        return {kind: {hit["id"]: hit for hit in backend.search(SearchRequest(kind, (), limit=10_000)).hits}
                for kind in KINDS}
    finally:
        backend.close()


def test_rebuilds_from_the_topics_and_from_a_snapshot_hold_the_same_documents(
        relay, source, source_url, broker, connector, databases, tmp_path):  # noqa: F811
    word = f"zb{uuid.uuid4().hex[:6]}"
    written = write_to_the_monolith(source, word)
    live_db, snapshot_db, topics_db = databases
    feed_has_caught_up(SearchSettings(
        database_url=live_db, index_dir=tmp_path / "live", kafka_bootstrap_servers=broker.bootstrap,
        topic_prefix=connector.topic_prefix, consumer_group=f"search-live-{uuid.uuid4().hex[:8]}"), f"notes {word}")

    snapshot = run_rebuild(snapshot_db, tmp_path / "from-snapshot", "--from", "snapshot", "--source-url", source_url)
    topics = run_rebuild(topics_db, tmp_path / "from-topics", "--from", "topics", "--idle-seconds", "5",
                         KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, CDC_TOPIC_PREFIX=connector.topic_prefix)
    # The progress bars' final lines (rich prints them once when stderr is not a terminal).
    assert "snapshot catalog_track" in snapshot.stderr and "index tracks" in snapshot.stderr
    assert "replay topics" in topics.stderr and "index tracks" in topics.stderr
    assert "published tantivy generation" in topics.stderr

    from_snapshot, from_topics = every_document(tmp_path / "from-snapshot"), every_document(tmp_path / "from-topics")
    assert from_topics == from_snapshot
    tracks = {pk: hit for pk, hit in from_topics["track"].items() if word in hit["title"]}
    assert sorted(tracks) == written["tracks"][:3]  # the deleted one is gone
    assert tracks[written["tracks"][1]]["title"] == f"Cocoon Reprise {word}"
    assert {hit["artist"]["name"] for hit in tracks.values()} == {f"Bjork {word}"}  # the rename reached them
    assert from_topics["artist"][written["artist"]]["name"] == f"Bjork {word}"
    assert [p["title"] for p in from_topics["post"].values() if word in p["title"]] == [f"Liner notes {word}"]
