"""Monolith rows as the CDC topics carry them (the connector's isostring / string encodings), for
tests that feed the indexer directly."""
from __future__ import annotations

from services.search.apply_change import RowChange

STAMP = "2026-01-02T03:04:05.123456Z"
_lsn = [1000]


def lsn() -> int:
    _lsn[0] += 10
    return _lsn[0]


def genre(pk, name="Rock", slug=None):
    return RowChange("catalog_genre", pk, {"id": pk, "name": name, "slug": slug or name.lower(), "description": ""}, lsn())


def artist(pk, name, country="GB", user_id=None):
    return RowChange("catalog_artist", pk, {
        "id": pk, "user_id": user_id, "name": name, "bio": "", "country": country, "image_url": "",
        "created_at": STAMP, "updated_at": STAMP}, lsn())


def album(pk, artist_id, title, release_date="1997-09-22"):
    return RowChange("catalog_album", pk, {
        "id": pk, "artist_id": artist_id, "title": title, "release_date": release_date, "cover_image_url": "",
        "created_at": STAMP, "updated_at": STAMP}, lsn())


def track(pk, artist_id, title, album_id=None, genre_id=None, popularity=10, duration_ms=200_000):
    return RowChange("catalog_track", pk, {
        "id": pk, "title": title, "artist_id": artist_id, "album_id": album_id, "genre_id": genre_id,
        "duration_ms": duration_ms, "popularity": popularity, "tempo": 120.0, "energy": None, "valence": 0.5,
        "price": "0.99", "file_path": "", "created_at": STAMP, "updated_at": STAMP}, lsn())


def user(pk, username):
    return RowChange("accounts_user", pk, {"id": pk, "username": username}, lsn())


def profile(pk, user_id, display_name):
    return RowChange("accounts_profile", pk, {"id": pk, "user_id": user_id, "display_name": display_name}, lsn())


def post(pk, author_id, title, body="", published=True):
    return RowChange("content_post", pk, {
        "id": pk, "author_id": author_id, "title": title, "body": body, "is_published": published,
        "published_at": STAMP if published else None, "created_at": STAMP, "updated_at": STAMP}, lsn())


def deleted(change: RowChange) -> RowChange:
    return RowChange(change.table, change.key, None, lsn())


def catalog():
    """A small catalog with the cases the tests talk about."""
    return [
        genre(1, "Electronic"), genre(2, "Rock"),
        artist(1, "Björk", "IS"), artist(2, "Radiohead"), artist(3, "Massive Attack"),
        album(1, 1, "Homogenic", "1997-09-22"), album(2, 2, "OK Computer", "1997-05-21"),
        album(3, 3, "Mezzanine", "1998-04-20"), album(4, 2, "Kid A", "2000-10-02"),
        track(1, 1, "Jóga", 1, 1, popularity=60), track(2, 1, "Bachelorette", 1, 1, popularity=55),
        track(3, 1, "All Is Full of Love", 1, 1, popularity=50, duration_ms=272_000),
        track(4, 2, "Paranoid Android", 2, 2, popularity=80, duration_ms=383_000),
        track(5, 2, "Karma Police", 2, 2, popularity=85), track(6, 2, "Everything in Its Right Place", 4, 2, popularity=70),
        track(7, 3, "Teardrop", 3, 1, popularity=90, duration_ms=330_000), track(8, 3, "Angel", 3, 1, popularity=65),
        track(9, 2, "Lucky", 2, 2, popularity=40), track(10, 3, "Love You Like a Love Song", None, None, popularity=5),
        user(1, "alice"), profile(1, 1, "Alice A."), user(2, "bob"),
        post(1, 1, "Why Teardrop still matters", "A love letter to Massive Attack's Mezzanine."),
        post(2, 2, "Draft about Radiohead", "not yet", published=False),
        post(3, 2, "Kid A at twenty-five", "Radiohead reinvented themselves."),
    ]
