"""GET /internal/sync-status: the last applied source LSN, so tools can wait for catch-up before
comparing. Internal: the proxy does not route /internal/*; it also requires the internal token
(X-Internal-Token) or an admin JWT."""
from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.config import get_settings
from services.catalog.database import db_session
from services.catalog.dependencies import authenticator
from services.catalog.sync.models import SyncState, int_to_lsn
from services.catalog.sync.outbox import OutboxEntry
from services.common.auth import permission_denied

router = APIRouter(prefix="/internal", tags=["internal"])


async def internal_caller(request: Request) -> None:
    token = get_settings().internal_token
    given = request.headers.get("x-internal-token")
    if token and given and hmac.compare_digest(token, given):
        return
    user = await authenticator().authenticate(request)
    if user is None or not user.is_platform_admin:
        raise permission_denied(user)


@router.get("/sync-status", dependencies=[Depends(internal_caller)])
async def sync_status(session: AsyncSession = Depends(db_session)):
    states = (await session.scalars(select(SyncState))).all()
    pending = await session.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.applied_at.is_(None)))
    return {
        "sources": {
            s.source: {
                "last_lsn": int_to_lsn(s.last_lsn), "last_lsn_int": s.last_lsn,
                "last_source_ts": s.last_source_ts.isoformat() if s.last_source_ts else None,
                "updated_at": s.updated_at.isoformat() if s.updated_at else None,
            } for s in states
        },
        "outbox_pending": pending,
    }
