"""Tracks: table `catalog_track` and the JSON shape of catalog.serializers.TrackSerializer."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from operator import itemgetter
from typing import Optional

from sqlalchemy import BigInteger, DateTime, Double, Index, Integer, Numeric, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.database import Base
from services.common.formats import drf_date, drf_datetime, drf_decimal


class Track(Base):
    __tablename__ = "catalog_track"
    # The monolith's indexes (catalog/models.py) plus the foreign-key indexes Django creates implicitly;
    # list endpoints sort by (field, id).
    __table_args__ = (
        Index("catalog_track_artist_idx", "artist_id"),
        Index("catalog_track_album_idx", "album_id"),
        Index("catalog_track_genre_idx", "genre_id"),
        Index("catalog_track_popularity_idx", "popularity", "id"),
        Index("catalog_track_genre_pop_idx", "genre_id", "popularity", "id"),
        Index("catalog_track_duration_idx", "duration_ms", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    artist_id: Mapped[int] = mapped_column(BigInteger)
    album_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    genre_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    popularity: Mapped[int] = mapped_column(SmallInteger, default=0)
    tempo: Mapped[Optional[float]] = mapped_column(Double, nullable=True)
    energy: Mapped[Optional[float]] = mapped_column(Double, nullable=True)
    valence: Mapped[Optional[float]] = mapped_column(Double, nullable=True)
    price: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("0"))
    file_path: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


ORDERING_FIELDS = ["popularity", "duration_ms", "created_at", "title", "price", "id"]


# A track row as track.service selects it (TRACK_COLUMNS): the table's columns, then these labels.
RELATED_COLUMNS = ("artist_name", "artist_country", "artist_image_url", "album_title", "album_release_date",
                   "album_cover_image_url", "genre_name", "genre_slug")
ROW_FIELDS = (*(column.key for column in Track.__table__.columns), *RELATED_COLUMNS)
_READ_FIELDS = ("id", "title", "artist_id", "artist_name", "artist_country", "artist_image_url", "album_id",
                "album_title", "album_release_date", "album_cover_image_url", "genre_id", "genre_name", "genre_slug",
                "duration_ms", "popularity", "tempo", "energy", "valence", "price", "file_path", "created_at",
                "updated_at")
# One C call picks them by position; 22 lookups by name cost a third of a 20-track list request.
_pick = itemgetter(*(ROW_FIELDS.index(name) for name in _READ_FIELDS))


def track_read(row) -> dict:
    """TrackSerializer; `row` is a row of ROW_FIELDS (album_* / genre_* are None when unset)."""
    (id, title, artist_id, artist_name, artist_country, artist_image_url, album_id, album_title, album_release_date,
     album_cover_image_url, genre_id, genre_name, genre_slug, duration_ms, popularity, tempo, energy, valence, price,
     file_path, created_at, updated_at) = _pick(row)
    return {
        "id": id,
        "title": title,
        "artist": {"id": artist_id, "name": artist_name, "country": artist_country, "image_url": artist_image_url},
        "album": None if album_id is None or album_title is None else {
            "id": album_id, "title": album_title, "release_date": drf_date(album_release_date),
            "cover_image_url": album_cover_image_url,
        },
        "genre": None if genre_id is None or genre_name is None else {
            "id": genre_id, "name": genre_name, "slug": genre_slug,
        },
        "duration_ms": duration_ms,
        "popularity": popularity,
        "tempo": tempo,
        "energy": energy,
        "valence": valence,
        "price": drf_decimal(price, 2),
        "file_path": file_path,
        "created_at": drf_datetime(created_at),
        "updated_at": drf_datetime(updated_at),
    }
