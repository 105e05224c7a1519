"""Artists: table `catalog_artist` and the JSON shapes of catalog.serializers.Artist*Serializer."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import BigInteger, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.database import Base
from services.common.formats import drf_datetime


class Artist(Base):
    __tablename__ = "catalog_artist"
    __table_args__ = (Index("catalog_artist_name_idx", "name"), Index("catalog_artist_user_idx", "user_id"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # The linked account (accounts_user lives in the monolith/auth service: no foreign key here).
    user_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    bio: Mapped[str] = mapped_column(Text, default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    image_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    def is_owned_by(self, user) -> bool:
        return self.user_id is not None and user is not None and self.user_id == user.id


ORDERING_FIELDS = ["name", "created_at", "id"]


def artist_summary(id, name, country, image_url) -> dict:
    """ArtistSummarySerializer (embedded in albums and tracks)."""
    return {"id": id, "name": name, "country": country, "image_url": image_url}


def artist_read(artist: Artist) -> dict:
    """ArtistSerializer."""
    return {
        "id": artist.id, "user": artist.user_id, "name": artist.name, "bio": artist.bio,
        "country": artist.country, "image_url": artist.image_url,
        "created_at": drf_datetime(artist.created_at), "updated_at": drf_datetime(artist.updated_at),
    }
