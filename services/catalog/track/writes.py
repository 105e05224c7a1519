"""Creating, changing and deleting tracks with catalog.serializers.TrackSerializer's validation."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping, Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.album.models import Album
from services.catalog.artist.models import Artist
from services.catalog.genre.models import Genre
from services.catalog.publishing import ensure_can_publish_for, exists
from services.catalog.track import service
from services.catalog.track.models import Track
from services.common.auth import Principal
from services.common.errors import ValidationError, not_found_for
from services.common.fields import (CharField, DecimalField, FloatField, IntegerField, PrimaryKeyField,
                                    validate)


def _fields(session: AsyncSession):
    return [
        CharField("title", max_length=200),
        PrimaryKeyField("artist_id", exists=exists(session, Artist)),
        PrimaryKeyField("album_id", required=False, allow_null=True, exists=exists(session, Album)),
        PrimaryKeyField("genre_id", required=False, allow_null=True, exists=exists(session, Genre)),
        IntegerField("duration_ms", min_value=1000, max_value=24 * 60 * 60 * 1000),
        IntegerField("popularity", required=False, min_value=0, max_value=100),
        FloatField("tempo", required=False, allow_null=True, min_value=1, max_value=400),
        FloatField("energy", required=False, allow_null=True, min_value=0, max_value=1),
        FloatField("valence", required=False, allow_null=True, min_value=0, max_value=1),
        DecimalField("price", required=False, max_digits=8, decimal_places=2, min_value=Decimal(0)),
        CharField("file_path", required=False, allow_blank=True, max_length=500),
    ]


async def _validated(session: AsyncSession, user: Optional[Principal], data: Any, partial: bool,
                     instance: Optional[Track] = None) -> dict:
    async def artist_hook(artist_id: int) -> int:
        await ensure_can_publish_for(session, user, artist_id)
        return artist_id

    values = await validate(data, _fields(session), partial, {"artist_id": artist_hook})
    # TrackSerializer.validate: the album must belong to the track's artist.
    artist_id = values.get("artist_id", instance.artist_id if instance else None)
    album_id = values["album_id"] if "album_id" in values else (instance.album_id if instance else None)
    if album_id is not None and artist_id is not None:
        album_artist = await session.scalar(select(Album.artist_id).where(Album.id == album_id))
        if album_artist != artist_id:
            raise ValidationError({"album_id": ["This album belongs to a different artist."]})
    return values


async def create(session: AsyncSession, user: Optional[Principal], data: Any) -> int:
    values = await _validated(session, user, data, partial=False)
    now = dt.datetime.now(dt.timezone.utc)
    track = Track(popularity=0, price=Decimal("0"), file_path="", tempo=None, energy=None, valence=None,
                  album_id=None, genre_id=None, created_at=now, updated_at=now)
    for key, value in values.items():
        setattr(track, key, value)
    session.add(track)
    await session.flush()
    await session.commit()
    return track.id


async def owner_of(session: AsyncSession, track_id: int, params: Mapping[str, str]) -> Optional[int]:
    """get_object() for writes: 404 unless the track exists (with the list filters applied);
    returns the owning user's id (through the artist)."""
    if await service.get_row(session, track_id, params) is None:
        raise not_found_for("Track")
    return await session.scalar(
        select(Artist.user_id).join(Track, Track.artist_id == Artist.id).where(Track.id == track_id))


async def update(session: AsyncSession, user: Optional[Principal], track_id: int, data: Any, partial: bool) -> None:
    track = await session.get(Track, track_id)
    values = await _validated(session, user, data, partial, instance=track)
    for key, value in values.items():
        setattr(track, key, value)
    track.updated_at = dt.datetime.now(dt.timezone.utc)
    await session.commit()


async def delete(session: AsyncSession, track_id: int) -> None:
    track = await session.get(Track, track_id)
    await session.delete(track)
    await session.commit()
