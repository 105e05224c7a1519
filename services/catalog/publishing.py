"""Rules shared by album and track writes (catalog.serializers.ensure_can_publish_for)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.artist.models import Artist
from services.common.auth import Principal
from services.common.errors import PermissionDenied


async def ensure_can_publish_for(session: AsyncSession, user: Optional[Principal], artist_id: int) -> None:
    """Albums and tracks may only be attached to an artist the user owns (admins: any); a 403,
    not a field error: the input is valid, the user lacks the right."""
    if user is not None and user.is_platform_admin:
        return
    owner = await session.scalar(select(Artist.user_id).where(Artist.id == artist_id))
    if user is None or owner is None or owner != user.id:
        raise PermissionDenied("You can only publish music for your own artist profile.")


def exists(session: AsyncSession, model):
    async def check(pk: int) -> bool:
        return await session.scalar(select(model.id).where(model.id == pk)) is not None

    return check
