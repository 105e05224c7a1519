"""Albums: table `catalog_album` and the JSON shapes of catalog.serializers.Album*Serializer."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import BigInteger, Date, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.database import Base
from services.common.formats import drf_date, drf_datetime


class Album(Base):
    __tablename__ = "catalog_album"
    __table_args__ = (
        Index("catalog_album_artist_idx", "artist_id"),
        Index("catalog_album_release_idx", "release_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # No foreign keys in the replica: CDC delivers tables on separate topics, so an album may arrive
    # before its artist. Cascades are applied by the service's own writes (see album.service).
    artist_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(200))
    release_date: Mapped[Optional[dt.date]] = mapped_column(Date, nullable=True)
    cover_image_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


ORDERING_FIELDS = ["release_date", "title", "created_at", "id"]


def album_summary(id, title, release_date, cover_image_url) -> dict:
    """AlbumSummarySerializer (embedded in tracks)."""
    return {"id": id, "title": title, "release_date": drf_date(release_date), "cover_image_url": cover_image_url}


def album_read(row) -> dict:
    """AlbumSerializer; `row` has the album's columns plus artist_name/artist_country/artist_image_url."""
    return {
        "id": row.id, "title": row.title,
        "artist": {"id": row.artist_id, "name": row.artist_name, "country": row.artist_country,
                   "image_url": row.artist_image_url},
        "release_date": drf_date(row.release_date), "cover_image_url": row.cover_image_url,
        "created_at": drf_datetime(row.created_at), "updated_at": drf_datetime(row.updated_at),
    }
