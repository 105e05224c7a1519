"""Search documents: what is indexed for each kind of hit and the JSON a hit answers with.

A document is denormalised: a track carries its artist's, album's and genre's names (to be found by
them) and the exact JSON the monolith's TrackSerializer renders (so a hit needs no lookup at query
time). The price is re-rendering documents whenever a row they embed changes; `apply_change` works
out which documents that is.

Rows here are "clean" rows (sources.py, `clean_row`): the columns documents need, in JSON-safe
canonical form, whatever encoding they arrived in (Debezium event, decoded with the CDC runtime's
converters, or a snapshot read with psycopg).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from services.search.sources import clean_row

__all__ = ["KINDS", "KindSpec", "SearchDocument", "album_document", "artist_document", "clean_row",
           "post_document", "track_document"]

POST_EXCERPT_CHARS = 200  # legacy_monolith/search/serializers.py


# -- what each kind indexes ---------------------------------------------------------------------
@dataclass(frozen=True)
class KindSpec:
    """The searchable shape of one kind. Backends build their schema / mapping from it."""

    name: str
    text_fields: Mapping[str, float]          # analysed text field -> ranking boost
    integer_fields: tuple[str, ...] = ()      # exact / range filters
    keyword_fields: tuple[str, ...] = ()      # exact string filters (not analysed)
    suggest: bool = False                     # offered by /suggest (its `suggest_text`)
    popularity: bool = False                  # ranking is weighted by popularity


TRACK = KindSpec(
    "track",
    text_fields={"title": 3.0, "artist_name": 2.0, "album_title": 1.0, "genre_name": 0.5},
    integer_fields=("artist_id", "album_id", "genre_id", "year", "duration_ms"),
    keyword_fields=("genre_slug",),
    suggest=True,
    popularity=True,
)
ARTIST = KindSpec("artist", text_fields={"name": 3.0}, suggest=True)
ALBUM = KindSpec("album", text_fields={"title": 3.0, "artist_name": 1.0}, integer_fields=("artist_id", "year"), suggest=True)
POST = KindSpec("post", text_fields={"title": 3.0, "body": 1.0}, integer_fields=("author_id",))

KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (TRACK, ARTIST, ALBUM, POST)}


@dataclass
class SearchDocument:
    kind: str
    id: int
    text: dict[str, str]
    integers: dict[str, Optional[int]] = field(default_factory=dict)
    keywords: dict[str, Optional[str]] = field(default_factory=dict)
    suggest_text: str = ""
    popularity: int = 0
    source: dict[str, Any] = field(default_factory=dict)   # the hit's JSON, exactly as the monolith renders it


# -- rendering: the monolith's serializers, field for field ------------------------------------
def artist_summary(artist: Mapping) -> dict:
    """catalog.serializers.ArtistSummarySerializer"""
    return {"id": artist["id"], "name": artist["name"], "country": artist["country"], "image_url": artist["image_url"]}


def album_summary(album: Mapping) -> dict:
    """catalog.serializers.AlbumSummarySerializer"""
    return {"id": album["id"], "title": album["title"], "release_date": album["release_date"],
            "cover_image_url": album["cover_image_url"]}


def genre_summary(genre: Mapping) -> dict:
    """catalog.serializers.GenreSummarySerializer"""
    return {"id": genre["id"], "name": genre["name"], "slug": genre["slug"]}


def _year(iso_date: Optional[str]) -> Optional[int]:
    return int(iso_date[:4]) if iso_date else None


def track_document(track: Mapping, artist: Mapping, album: Optional[Mapping], genre: Optional[Mapping]) -> SearchDocument:
    source = {
        "id": track["id"], "title": track["title"], "artist": artist_summary(artist),
        "album": album_summary(album) if album else None, "genre": genre_summary(genre) if genre else None,
        "duration_ms": track["duration_ms"], "popularity": track["popularity"], "tempo": track["tempo"],
        "energy": track["energy"], "valence": track["valence"], "price": track["price"],
        "file_path": track["file_path"], "created_at": track["created_at"], "updated_at": track["updated_at"],
    }
    return SearchDocument(
        kind="track", id=track["id"],
        text={"title": track["title"], "artist_name": artist["name"],
              "album_title": album["title"] if album else "", "genre_name": genre["name"] if genre else ""},
        integers={"artist_id": artist["id"], "album_id": album["id"] if album else None,
                  "genre_id": genre["id"] if genre else None,
                  "year": _year(album["release_date"]) if album else None, "duration_ms": track["duration_ms"]},
        keywords={"genre_slug": genre["slug"] if genre else None},
        suggest_text=track["title"], popularity=track["popularity"], source=source,
    )


def artist_document(artist: Mapping) -> SearchDocument:
    source = {"id": artist["id"], "user": artist["user_id"],
              **{key: artist[key] for key in ("name", "bio", "country", "image_url", "created_at", "updated_at")}}
    return SearchDocument(kind="artist", id=artist["id"], text={"name": artist["name"]},
                          suggest_text=artist["name"], source=source)


def album_document(album: Mapping, artist: Mapping) -> SearchDocument:
    source = {
        "id": album["id"], "title": album["title"], "artist": artist_summary(artist),
        "release_date": album["release_date"], "cover_image_url": album["cover_image_url"],
        "created_at": album["created_at"], "updated_at": album["updated_at"],
    }
    return SearchDocument(
        kind="album", id=album["id"], text={"title": album["title"], "artist_name": artist["name"]},
        integers={"artist_id": artist["id"], "year": _year(album["release_date"])},
        suggest_text=album["title"], source=source,
    )


def post_document(post: Mapping, user: Optional[Mapping], profile: Optional[Mapping]) -> SearchDocument:
    """search.serializers.PostHitSerializer; the author's display name falls back to the username
    exactly as accounts.serializers.UserSummarySerializer does."""
    username = user["username"] if user else ""
    author = {"id": post["author_id"], "username": username,
              "display_name": (profile or {}).get("display_name") or username}
    source = {"id": post["id"], "title": post["title"], "excerpt": post["body"][:POST_EXCERPT_CHARS],
              "author": author, "published_at": post["published_at"]}
    return SearchDocument(kind="post", id=post["id"], text={"title": post["title"], "body": post["body"]},
                          integers={"author_id": post["author_id"]}, source=source)
