"""User lookups for token authentication."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from services.catalog.account.models import AccountUser
from services.catalog.database import database
from services.common.auth import Principal


async def get_principal(user_id: int) -> Optional[Principal]:
    async with database().sessions() as session:
        row = (await session.execute(
            select(AccountUser.role, AccountUser.is_staff, AccountUser.is_active).where(AccountUser.id == user_id)
        )).first()
    if row is None:
        return None
    return Principal(id=user_id, role=row.role, is_staff=row.is_staff, is_active=row.is_active)
