"""Album queries and writes (catalog.views.AlbumViewSet and /artists/{id}/albums/)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Optional

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.album.models import ORDERING_FIELDS, Album
from services.catalog.artist.models import Artist
from services.catalog.publishing import ensure_can_publish_for, exists
from services.catalog.track.models import Track
from services.common.auth import Principal
from services.common.errors import not_found_for
from services.common.fields import CharField, DateField, PrimaryKeyField, url_check, validate
from services.common.filters import CharFilter, FilterSet, NumberFilter
from services.common.ordering import ordered

# catalog.filters.AlbumFilter
ALBUM_FILTERS = FilterSet(
    NumberFilter("artist", Album.artist_id),
    NumberFilter("year_min", Album.release_date, "gte", "year"),
    NumberFilter("year_max", Album.release_date, "lte", "year"),
    CharFilter("title", Album.title, "icontains"),
)
ORDER_COLUMNS = {name: getattr(Album, name) for name in ORDERING_FIELDS}

ALBUM_COLUMNS = (
    *Album.__table__.columns,
    Artist.name.label("artist_name"), Artist.country.label("artist_country"),
    Artist.image_url.label("artist_image_url"),
)


def _with_artist(stmt: Select) -> Select:
    return stmt.join(Artist, Artist.id == Album.artist_id)


# Built once: statements are immutable, and building the column list costs more than the query.
ALBUM_ROWS = _with_artist(select(*ALBUM_COLUMNS))
ALBUM_COUNT = _with_artist(select(func.count()).select_from(Album))


def list_statements(params: Mapping[str, str], *, artist_id: Optional[int] = None):
    # An artist's albums leave invalid filter values out, as the monolith's nested list does.
    conditions = ALBUM_FILTERS.conditions(params, lenient=artist_id is not None)
    if artist_id is not None:
        conditions.append(Album.artist_id == artist_id)
    rows = ordered(ALBUM_ROWS.where(*conditions), params.get("ordering"), ORDERING_FIELDS, ORDER_COLUMNS, Album.id)
    # Album.objects.with_artist() is an INNER JOIN, so the count joins too.
    return rows, ALBUM_COUNT.where(*conditions)


async def get_row(session: AsyncSession, album_id: int, params: Mapping[str, str]):
    row = (await session.execute(
        ALBUM_ROWS.where(Album.id == album_id, *ALBUM_FILTERS.conditions(params))
    )).first()
    if row is None:
        raise not_found_for("Album")
    return row


async def owner_of(session: AsyncSession, album_id: int, params: Mapping[str, str]) -> Optional[int]:
    row = await get_row(session, album_id, params)
    return await session.scalar(select(Artist.user_id).where(Artist.id == row.artist_id))


async def save(session: AsyncSession, user: Optional[Principal], data: Any,
               album: Optional[Album] = None, partial: bool = False) -> int:
    fields = [
        CharField("title", max_length=200),
        PrimaryKeyField("artist_id", exists=exists(session, Artist)),
        DateField("release_date", required=False, allow_null=True),
        CharField("cover_image_url", required=False, allow_blank=True, max_length=500, extra_check=url_check),
    ]

    async def artist_hook(artist_id: int) -> int:
        await ensure_can_publish_for(session, user, artist_id)
        return artist_id

    values = await validate(data, fields, partial, {"artist_id": artist_hook})
    now = dt.datetime.now(dt.timezone.utc)
    if album is None:
        album = Album(release_date=None, cover_image_url="", created_at=now)
        session.add(album)
    for key, value in values.items():
        setattr(album, key, value)
    album.updated_at = now
    await session.flush()
    await session.commit()
    return album.id


async def delete(session: AsyncSession, album_id: int) -> None:
    """on_delete=SET_NULL for the album's tracks."""
    for track in (await session.scalars(select(Track).where(Track.album_id == album_id))).all():
        track.album_id = None
    await session.delete(await session.get(Album, album_id))
    await session.commit()
