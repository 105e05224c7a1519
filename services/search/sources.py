"""The monolith tables search reads, declared once: per table the replica entity it becomes, the
columns taken (what a snapshot selects; never accounts_user.password, which the topics exclude
too), the cleaner that turns a row in any encoding (a Debezium event's JSON, a psycopg snapshot
row) into the canonical JSON-safe row documents are built from, and the columns referencing other
rows (what a change cascades through, indexed in the replica).

Everything else is derived from SOURCES: the CDC topic map (cdc_consumer.py), the snapshot's
SELECTs (snapshot.py), the replica's tables (replica.py) and the table -> entity lookups."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from cdc.consumer.value_decoding import to_date, to_datetime, to_decimal
from services.common.formats import drf_date, drf_datetime, drf_decimal


@dataclass(frozen=True)
class Source:
    table: str                          # monolith table (schema public)
    entity: str                         # replica entity: replica_<entity>
    columns: tuple[str, ...]            # the columns taken; the cleaner returns exactly these
    clean: Callable[[Mapping], dict]
    references: tuple[str, ...] = ()    # columns holding other rows' ids

    @property
    def source_table(self) -> str:
        return f"public.{self.table}"


# -- cleaners: the columns documents use, canonical JSON-safe values ----------------------------
def _dt(value):
    return None if value is None else drf_datetime(to_datetime(value, True))


def _date(value):
    return None if value is None else drf_date(to_date(value))


def _float(value):
    return None if value is None else float(value)


def _bool(value) -> bool:
    return value.lower() in ("true", "t", "1") if isinstance(value, str) else bool(value)


def _clean_genre(r):
    return {"id": r["id"], "name": r["name"], "slug": r["slug"]}


def _clean_artist(r):
    return {
        "id": r["id"], "user_id": r.get("user_id"), "name": r["name"], "bio": r.get("bio") or "",
        "country": r.get("country") or "", "image_url": r.get("image_url") or "",
        "created_at": _dt(r.get("created_at")), "updated_at": _dt(r.get("updated_at")),
    }


def _clean_album(r):
    return {
        "id": r["id"], "artist_id": r["artist_id"], "title": r["title"],
        "release_date": _date(r.get("release_date")),
        "cover_image_url": r.get("cover_image_url") or "",
        "created_at": _dt(r.get("created_at")), "updated_at": _dt(r.get("updated_at")),
    }


def _clean_track(r):
    return {
        "id": r["id"], "title": r["title"], "artist_id": r["artist_id"], "album_id": r.get("album_id"),
        "genre_id": r.get("genre_id"), "duration_ms": r["duration_ms"], "popularity": r.get("popularity") or 0,
        "tempo": _float(r.get("tempo")), "energy": _float(r.get("energy")), "valence": _float(r.get("valence")),
        "price": drf_decimal(to_decimal(r.get("price") or 0), 2),
        "file_path": r.get("file_path") or "",
        "created_at": _dt(r.get("created_at")), "updated_at": _dt(r.get("updated_at")),
    }


def _clean_post(r):
    return {
        "id": r["id"], "author_id": r["author_id"], "title": r["title"], "body": r.get("body") or "",
        "is_published": _bool(r.get("is_published")), "published_at": _dt(r.get("published_at")),
    }


def _clean_user(r):
    return {"id": r["id"], "username": r["username"]}


def _clean_profile(r):
    return {"id": r["id"], "user_id": r["user_id"], "display_name": r.get("display_name") or ""}


SOURCES: tuple[Source, ...] = (
    Source("catalog_genre", "genre", ("id", "name", "slug"), _clean_genre),
    Source("catalog_artist", "artist",
           ("id", "user_id", "name", "bio", "country", "image_url", "created_at", "updated_at"), _clean_artist),
    Source("catalog_album", "album",
           ("id", "artist_id", "title", "release_date", "cover_image_url", "created_at", "updated_at"), _clean_album,
           references=("artist_id",)),
    Source("catalog_track", "track",
           ("id", "title", "artist_id", "album_id", "genre_id", "duration_ms", "popularity", "tempo", "energy",
            "valence", "price", "file_path", "created_at", "updated_at"), _clean_track,
           references=("artist_id", "album_id", "genre_id")),
    Source("content_post", "post", ("id", "author_id", "title", "body", "is_published", "published_at"), _clean_post,
           references=("author_id",)),
    Source("accounts_user", "user", ("id", "username"), _clean_user),
    Source("accounts_profile", "profile", ("id", "user_id", "display_name"), _clean_profile, references=("user_id",)),
)
BY_TABLE: dict[str, Source] = {source.table: source for source in SOURCES}
BY_ENTITY: dict[str, Source] = {source.entity: source for source in SOURCES}


def clean_row(table: str, raw: Mapping) -> dict:
    return BY_TABLE[table].clean(raw)
