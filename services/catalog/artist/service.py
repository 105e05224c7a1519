"""Artist queries and writes (catalog.views.ArtistViewSet)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Optional

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.account.models import AccountUser
from services.catalog.album.models import Album
from services.catalog.artist.models import ORDERING_FIELDS, Artist
from services.catalog.publishing import exists
from services.catalog.track.models import Track
from services.common.auth import Principal
from services.common.fields import CharField, Invalid, PrimaryKeyField, url_check, validate
from services.common.filters import CharFilter, FilterSet, NumberFilter
from services.common.ordering import ordered

# catalog.filters.ArtistFilter
ARTIST_FILTERS = FilterSet(
    CharFilter("country", Artist.country, "iexact"),
    CharFilter("name", Artist.name, "icontains"),
    NumberFilter("user", Artist.user_id),
)
ORDER_COLUMNS = {name: getattr(Artist, name) for name in ORDERING_FIELDS}


def list_statements(params: Mapping[str, str]):
    conditions = ARTIST_FILTERS.conditions(params)
    rows = ordered(select(Artist).where(*conditions), params.get("ordering"), ORDERING_FIELDS, ORDER_COLUMNS, Artist.id)
    return rows, select(func.count()).select_from(Artist).where(*conditions)


async def get(session: AsyncSession, artist_id: int, params: Mapping[str, str]) -> Artist:
    """get_object(): the ArtistFilter of the query string applies to the lookup too."""
    return await ARTIST_FILTERS.get_object(session, Artist, artist_id, params, "Artist")


async def existing_id(session: AsyncSession, artist_id: int, params: Mapping[str, str]) -> int:
    """`get` for the nested lists, which only need to know the artist is there (404 otherwise)."""
    return await ARTIST_FILTERS.get_object(session, Artist, artist_id, params, "Artist", Artist.id)


def _country(value: str) -> str:
    if value and (len(value) != 2 or not value.isalpha()):
        raise Invalid("Use a two-letter ISO 3166-1 country code.")
    return value.upper()


async def save(session: AsyncSession, user: Optional[Principal], data: Any,
               artist: Optional[Artist] = None, partial: bool = False) -> Artist:
    fields = [
        PrimaryKeyField("user", required=False, allow_null=True, exists=exists(session, AccountUser)),
        CharField("name", max_length=200),
        CharField("bio", required=False, allow_blank=True),
        CharField("country", required=False, allow_blank=True, max_length=2),
        CharField("image_url", required=False, allow_blank=True, max_length=500, extra_check=url_check),
    ]

    async def user_hook(user_id):
        if not (user is not None and user.is_platform_admin) and (user is None or user_id != user.id):
            raise Invalid("Only admins can link an artist to another user.")
        return user_id

    async def country_hook(value):
        return _country(value)

    values = await validate(data, fields, partial, {"user": user_hook, "country": country_hook})
    now = dt.datetime.now(dt.timezone.utc)
    if artist is None:
        artist = Artist(user_id=None, bio="", country="", image_url="", created_at=now)
        session.add(artist)
        if not (user is not None and user.is_platform_admin):
            values["user"] = user.id      # an artist creating a profile owns it
    for key, value in values.items():
        setattr(artist, "user_id" if key == "user" else key, value)
    artist.updated_at = now
    await session.flush()
    await session.commit()
    return artist


async def delete(session: AsyncSession, artist: Artist) -> None:
    """on_delete=CASCADE: the artist's tracks and albums go too (each recorded in the outbox by the kit)."""
    for track in (await session.scalars(select(Track).where(Track.artist_id == artist.id))).all():
        await session.delete(track)
    albums = (await session.scalars(select(Album).where(Album.artist_id == artist.id))).all()
    for album in albums:
        for track in (await session.scalars(select(Track).where(Track.album_id == album.id))).all():
            track.album_id = None
        await session.delete(album)
    await session.delete(artist)
    await session.commit()
