"""Tracks: table `catalog_track` and the JSON shape of catalog.serializers.TrackSerializer."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
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


def track_read(row) -> dict:
    """TrackSerializer; `row` carries the track columns plus the labelled artist/album/genre columns
    selected by track.service.TRACK_COLUMNS (album_* / genre_* are None when unset)."""
    return {
        "id": row.id,
        "title": row.title,
        "artist": {"id": row.artist_id, "name": row.artist_name, "country": row.artist_country,
                   "image_url": row.artist_image_url},
        "album": None if row.album_id is None or row.album_title is None else {
            "id": row.album_id, "title": row.album_title, "release_date": drf_date(row.album_release_date),
            "cover_image_url": row.album_cover_image_url,
        },
        "genre": None if row.genre_id is None or row.genre_name is None else {
            "id": row.genre_id, "name": row.genre_name, "slug": row.genre_slug,
        },
        "duration_ms": row.duration_ms,
        "popularity": row.popularity,
        "tempo": row.tempo,
        "energy": row.energy,
        "valence": row.valence,
        "price": drf_decimal(row.price, 2),
        "file_path": row.file_path,
        "created_at": drf_datetime(row.created_at),
        "updated_at": drf_datetime(row.updated_at),
    }
