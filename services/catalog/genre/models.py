"""Genres: table `catalog_genre` (same name, columns and ids as the monolith's) and JSON shapes."""
from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.database import Base


class Genre(Base):
    __tablename__ = "catalog_genre"
    # Uniqueness of name/slug is checked by the service's writes (genre.service), not by constraints:
    # CDC applies rows one key at a time, so a swap of two names would briefly violate one.
    __table_args__ = (Index("catalog_genre_name_idx", "name"), Index("catalog_genre_slug_idx", "slug"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")


ORDERING_FIELDS = ["name", "id"]


def genre_summary(id, name, slug) -> dict:
    """GenreSummarySerializer (embedded in tracks)."""
    return {"id": id, "name": name, "slug": slug}


def genre_read(genre: Genre) -> dict:
    """GenreSerializer."""
    return {"id": genre.id, "name": genre.name, "slug": genre.slug, "description": genre.description}
