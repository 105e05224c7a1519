"""Genre queries and writes (catalog.views.GenreViewSet, admin-only writes)."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.genre.models import ORDERING_FIELDS, Genre
from services.catalog.track.models import Track
from services.common.fields import CharField, Invalid, slug_check, validate
from services.common.filters import CharFilter, FilterSet
from services.common.ordering import ordered

GENRE_FILTERS = FilterSet(CharFilter("slug", Genre.slug))     # filterset_fields = ["slug"]
ORDER_COLUMNS = {name: getattr(Genre, name) for name in ORDERING_FIELDS}


def list_statements(params: Mapping[str, str]):
    conditions = GENRE_FILTERS.conditions(params)
    rows = ordered(select(Genre).where(*conditions), params.get("ordering"), ORDERING_FIELDS, ORDER_COLUMNS, Genre.name)
    return rows, select(func.count()).select_from(Genre).where(*conditions)


async def get(session: AsyncSession, genre_id: int, params: Mapping[str, str]) -> Genre:
    return await GENRE_FILTERS.get_object(session, Genre, genre_id, params, "Genre")


def _unique(session: AsyncSession, column, label: str, exclude_id=None):
    async def hook(value):
        stmt = select(Genre.id).where(column == value)
        if exclude_id is not None:
            stmt = stmt.where(Genre.id != exclude_id)
        if await session.scalar(stmt) is not None:
            raise Invalid(f"genre with this {label} already exists.")
        return value

    return hook


async def save(session: AsyncSession, data: Any, genre: Genre | None = None, partial: bool = False) -> Genre:
    fields = [
        CharField("name", max_length=100),
        CharField("slug", max_length=100, extra_check=slug_check),
        CharField("description", required=False, allow_blank=True),
    ]
    exclude = genre.id if genre else None
    values = await validate(data, fields, partial, {
        "name": _unique(session, Genre.name, "name", exclude),
        "slug": _unique(session, Genre.slug, "slug", exclude),
    })
    if genre is None:
        genre = Genre(description="")
        session.add(genre)
    for key, value in values.items():
        setattr(genre, key, value)
    await session.flush()
    await session.commit()
    return genre


async def delete(session: AsyncSession, genre: Genre) -> None:
    """on_delete=SET_NULL for the genre's tracks, as Django does it."""
    tracks = (await session.scalars(select(Track).where(Track.genre_id == genre.id))).all()
    for track in tracks:
        track.genre_id = None
    await session.delete(genre)
    await session.commit()
