"""The catalog service's forward CDC sync end to end on the real pieces: monolith writes (SQL on the
monolith's database, as its ORM issues them) stream through Debezium and Tansu into the service
(`python -m services.catalog.run`), whose API then answers with the same ids; a restarted service
resumes from where it stopped; /internal/sync-status reaches the monolith's LSN."""
from __future__ import annotations

import uuid

import psycopg
import pytest

from cdc.testing import wait_until
from tests.lifecycle.conftest import catalog_checksums, current_lsn

pytestmark = pytest.mark.slow
DEADLINE = 240


def _insert_artist(conn, name: str) -> int:
    return conn.execute(
        "INSERT INTO catalog_artist (name, bio, country, image_url, created_at, updated_at) "
        "VALUES (%s, 'bio', 'SE', '', now(), now()) RETURNING id", (name,)).fetchone()[0]


def _insert_album(conn, artist_id: int, title: str) -> int:
    return conn.execute(
        "INSERT INTO catalog_album (artist_id, title, release_date, cover_image_url, created_at, updated_at) "
        "VALUES (%s, %s, '2024-02-29', '', now(), now()) RETURNING id", (artist_id, title)).fetchone()[0]


def _insert_track(conn, artist_id: int, album_id: int | None, title: str, price: str = "1.99") -> int:
    return conn.execute(
        "INSERT INTO catalog_track (title, artist_id, album_id, genre_id, duration_ms, popularity, tempo, energy, "
        "valence, price, file_path, created_at, updated_at) VALUES (%s, %s, %s, NULL, 181000, 7, 120.5, 0.25, "
        "0.125, %s, '', now(), now()) RETURNING id", (title, artist_id, album_id, price)).fetchone()[0]


def _wait_for(service, path: str, check, message: str):
    def probe():
        code, body = service.get(path)
        return check(code, body)
    return wait_until(probe, DEADLINE, 0.5, message)


def _wait_lsn(service, source_url: str) -> int:
    target = current_lsn(source_url)
    # Debezium's heartbeat (every 5 s) writes to the monolith, so the applied LSN passes `target` even
    # when the last catalog change was before it.
    wait_until(lambda: service.synced_lsn() >= target, DEADLINE, 0.5, f"sync-status LSN >= {target}")
    return target


def test_monolith_writes_reach_the_service_api_with_the_same_ids(catalog_service, source_url, catalog_url):
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(source_url, autocommit=True) as mono:
        artist_id = _insert_artist(mono, f"Lifecycle Artist {tag}")
        album_id = _insert_album(mono, artist_id, f"Lifecycle Album {tag}")
        track_id = _insert_track(mono, artist_id, album_id, f"Lifecycle Track {tag}", "12.34")

    _wait_for(catalog_service, f"/api/v1/tracks/{track_id}/",
              lambda code, body: code == 200 and body["id"] == track_id and body["title"] == f"Lifecycle Track {tag}",
              "inserted track served by the service")
    _wait_for(catalog_service, f"/api/v1/artists/{artist_id}/",
              lambda code, body: code == 200 and body["name"] == f"Lifecycle Artist {tag}", "inserted artist")
    _wait_for(catalog_service, f"/api/v1/albums/{album_id}/",
              lambda code, body: code == 200 and body["title"] == f"Lifecycle Album {tag}", "inserted album")
    code, body = catalog_service.get(f"/api/v1/tracks/{track_id}/")
    assert body["price"] == "12.34"

    with psycopg.connect(source_url, autocommit=True) as mono:
        mono.execute("UPDATE catalog_track SET title = %s, price = 0.10, updated_at = now() WHERE id = %s",
                     (f"Renamed {tag}", track_id))
        mono.execute("UPDATE catalog_artist SET name = %s, updated_at = now() WHERE id = %s",
                     (f"Renamed Artist {tag}", artist_id))
        mono.execute("UPDATE catalog_album SET title = %s, updated_at = now() WHERE id = %s",
                     (f"Renamed Album {tag}", album_id))
    _wait_for(catalog_service, f"/api/v1/tracks/{track_id}/",
              lambda code, body: code == 200 and body["title"] == f"Renamed {tag}" and body["price"] == "0.10",
              "updated track")
    _wait_for(catalog_service, f"/api/v1/artists/{artist_id}/",
              lambda code, body: code == 200 and body["name"] == f"Renamed Artist {tag}", "updated artist")
    _wait_for(catalog_service, f"/api/v1/albums/{album_id}/",
              lambda code, body: code == 200 and body["title"] == f"Renamed Album {tag}", "updated album")

    with psycopg.connect(source_url, autocommit=True) as mono:
        mono.execute("DELETE FROM catalog_track WHERE id = %s", (track_id,))
        mono.execute("DELETE FROM catalog_album WHERE id = %s", (album_id,))
        mono.execute("DELETE FROM catalog_artist WHERE id = %s", (artist_id,))
    for path in (f"/api/v1/tracks/{track_id}/", f"/api/v1/albums/{album_id}/", f"/api/v1/artists/{artist_id}/"):
        _wait_for(catalog_service, path, lambda code, body: code == 404, f"{path} deleted")

    _wait_lsn(catalog_service, source_url)
    assert catalog_checksums(source_url) == catalog_checksums(catalog_url)


def test_restarted_service_resumes_and_catches_up(catalog_service, source_url, catalog_url):
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(source_url, autocommit=True) as mono:
        artist_id = _insert_artist(mono, f"Before Restart {tag}")
    _wait_for(catalog_service, f"/api/v1/artists/{artist_id}/", lambda code, body: code == 200, "artist before restart")
    _wait_lsn(catalog_service, source_url)
    before = catalog_service.synced_lsn()

    catalog_service.stop()
    # Changes made while the service is down are applied after it comes back.
    with psycopg.connect(source_url, autocommit=True) as mono:
        track_ids = [_insert_track(mono, artist_id, None, f"While Down {tag} {i}") for i in range(5)]
        mono.execute("UPDATE catalog_artist SET name = %s, updated_at = now() WHERE id = %s",
                     (f"Renamed While Down {tag}", artist_id))
        mono.execute("DELETE FROM catalog_track WHERE id = %s", (track_ids[0],))
    catalog_service.start()
    assert catalog_service.synced_lsn() >= before       # the position survived the restart

    _wait_for(catalog_service, f"/api/v1/artists/{artist_id}/",
              lambda code, body: code == 200 and body["name"] == f"Renamed While Down {tag}", "rename while down")
    for track_id in track_ids[1:]:
        _wait_for(catalog_service, f"/api/v1/tracks/{track_id}/",
                  lambda code, body: code == 200 and body["artist"]["id"] == artist_id
                  if isinstance(body, dict) and isinstance(body.get("artist"), dict)
                  else code == 200, f"track {track_id} inserted while down")
    _wait_for(catalog_service, f"/api/v1/tracks/{track_ids[0]}/", lambda code, body: code == 404,
              "track deleted while down")
    _wait_lsn(catalog_service, source_url)
    assert catalog_checksums(source_url) == catalog_checksums(catalog_url)
