"""Documents render exactly what the monolith's serializers render, from any CDC encoding."""
from __future__ import annotations

import base64

from services.search import documents


def sample_track(pk=1, title="Hunter", artist="Björk", popularity=10, year=1997, genre_id=1, duration_ms=200_000):
    track = documents.clean_row("catalog_track", {
        "id": pk, "title": title, "artist_id": 1, "album_id": 1 if year else None, "genre_id": genre_id,
        "duration_ms": duration_ms, "popularity": popularity, "tempo": None, "energy": 0.5, "valence": None,
        "price": "1.5", "file_path": "", "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z"})
    artist_row = documents.clean_row("catalog_artist", {
        "id": 1, "user_id": None, "name": artist, "bio": "", "country": "IS", "image_url": "",
        "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z"})
    album = documents.clean_row("catalog_album", {
        "id": 1, "artist_id": 1, "title": "Homogenic", "release_date": f"{year}-09-22", "cover_image_url": "",
        "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z"}) if year else None
    genre = {"id": genre_id, "name": f"Genre {genre_id}", "slug": f"genre-{genre_id}"} if genre_id else None
    return track, artist_row, album, genre


def test_track_source_has_the_track_serializer_fields_in_order():
    doc = documents.track_document(*sample_track())
    assert list(doc.source) == ["id", "title", "artist", "album", "genre", "duration_ms", "popularity", "tempo",
                                "energy", "valence", "price", "file_path", "created_at", "updated_at"]
    assert doc.source["artist"] == {"id": 1, "name": "Björk", "country": "IS", "image_url": ""}
    assert doc.source["album"] == {"id": 1, "title": "Homogenic", "release_date": "1997-09-22", "cover_image_url": ""}
    assert doc.source["price"] == "1.50"
    assert doc.source["created_at"] == "2026-01-02T03:04:05Z"
    assert doc.integers["year"] == 1997 and doc.text["album_title"] == "Homogenic"


def test_debezium_encodings_are_normalised():
    raw = {"id": 1, "title": "x", "artist_id": 1, "duration_ms": 1000, "popularity": 3,
           "price": {"scale": 2, "value": base64.b64encode((1234).to_bytes(2, "big", signed=True)).decode()},
           "created_at": "2026-01-02T03:04:05.120000000Z",                           # nanoseconds
           "updated_at": 1_767_322_800_000_000}                                        # epoch micros
    row = documents.clean_row("catalog_track", raw)
    assert row["price"] == "12.34"
    assert row["created_at"] == "2026-01-02T03:04:05.120000Z"
    assert row["updated_at"] == "2026-01-02T03:00:00Z"
    album = documents.clean_row("catalog_album", {"id": 1, "artist_id": 1, "title": "t", "release_date": 10_000})
    assert album["release_date"] == "1997-05-19"  # io.debezium.time.Date: days since the epoch


def test_post_hit_is_the_post_hit_serializer():
    post = documents.clean_row("content_post", {"id": 3, "author_id": 2, "title": "T", "body": "b" * 300,
                                                "is_published": True, "published_at": "2026-01-02T03:04:05Z"})
    doc = documents.post_document(post, {"id": 2, "username": "bob"}, None)
    assert doc.source == {"id": 3, "title": "T", "excerpt": "b" * 200,
                          "author": {"id": 2, "username": "bob", "display_name": "bob"},
                          "published_at": "2026-01-02T03:04:05Z"}
    with_profile = documents.post_document(post, {"id": 2, "username": "bob"}, {"display_name": "Bob B."})
    assert with_profile.source["author"]["display_name"] == "Bob B."


def test_artist_source_is_the_artist_serializer():
    artist = documents.clean_row("catalog_artist", {"id": 4, "user_id": 9, "name": "N", "bio": "b", "country": "FR",
                                                    "image_url": "", "created_at": "2026-01-02T03:04:05Z",
                                                    "updated_at": "2026-01-02T03:04:05Z"})
    assert list(documents.artist_document(artist).source) == [
        "id", "user", "name", "bio", "country", "image_url", "created_at", "updated_at"]
