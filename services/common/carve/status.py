"""The kit's internal endpoints, on every carved service (the proxy does not route /internal/*;
each also needs the internal token, X-Internal-Token, or an admin JWT):

- GET  /internal/sync-status: how far the replica has caught up (last source LSN, per-partition
  progress; `?caught_up=true` also asks whether every partition of the domain's tables has applied
  the monolith's changes up to now), the outbox (pending, parked with reasons) and the write owner.
  "Up to now" can only be confirmed by the next applied CDC heartbeat (every 5 s), so the check
  waits up to `wait` seconds (default 10; 0: one look) for the target; `target_lsn` (e.g. the
  `target_lsn_int` of an earlier answer) polls against a fixed target instead of a new one; `position=true` adds `position`, the
  monolith WAL position below which every change to each of the domain's tables is applied
  (position.py: what CDC-aware shadowing and the parity suite wait on; `position_target`, the
  LSN the caller waits for, lets a quiet replica nudge the CDC heartbeat to get there sooner);
- GET  /internal/write-ownership: who accepts the domain's writes;
- POST /internal/write-ownership {"owner": "service"|"monolith", "who": "..."}: the handover
  (ownership.py); 409 with the reason when it cannot happen now, nothing changed."""
from __future__ import annotations

import asyncio
import hmac
from typing import Callable, Optional

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import text

from cdc.lsn import int_to_lsn
from services.common.auth import permission_denied
from services.common.carve import ownership
from services.common.carve.declaration import Domain
from services.common.carve.sync_tables import MONOLITH, SERVICE
from services.common.database import plain_url
from services.common.errors import ValidationError
from services.common.responses import JSONResponse

PARKED_SHOWN = 20
CAUGHT_UP_WAIT = 10.0       # seconds: two CDC heartbeat intervals


def internal_caller(settings: Callable, authenticator: Callable):
    async def check(request: Request) -> None:
        token = settings().internal_token
        given = request.headers.get("x-internal-token")
        if token and given and hmac.compare_digest(token, given):
            return
        user = await authenticator().authenticate(request)
        if user is None or not user.is_platform_admin:
            raise permission_denied(user)

    return check


def internal_router(domain: Domain, settings: Callable, session_dependency, authenticator: Callable) -> APIRouter:
    router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[Depends(internal_caller(settings, authenticator))])
    state, outbox, owner = (domain.sync_table(r) for r in ("sync_state", "outbox", "write_owner"))

    @router.get("/sync-status")
    async def sync_status(caught_up: bool = False, wait: float = Query(CAUGHT_UP_WAIT, ge=0, le=60),
                          target_lsn: Optional[int] = Query(None, ge=0), position: bool = False,
                          position_target: Optional[int] = Query(None, ge=0),
                          session=Depends(session_dependency)):
        sources = {}
        for source, lsn, ts, updated in (await session.execute(text(
                f"SELECT source, last_lsn, last_source_ts, updated_at FROM {state}"))).all():
            sources[source] = {"last_lsn": int_to_lsn(lsn), "last_lsn_int": lsn,
                               "last_source_ts": ts.isoformat() if ts else None,
                               "updated_at": updated.isoformat() if updated else None}
        pending, parked = (await session.execute(text(
            f"SELECT count(*), count(*) FILTER (WHERE parked_at IS NOT NULL) FROM {outbox} WHERE applied_at IS NULL"))).one()
        parked_rows = (await session.execute(text(
            f"SELECT id, table_name, row_id, op, attempts, parked_at, next_attempt_at, park_reason FROM {outbox} "
            f"WHERE applied_at IS NULL AND parked_at IS NOT NULL ORDER BY id LIMIT {PARKED_SHOWN}"))).all()
        partitions = (await session.execute(text(
            "SELECT topic, kafka_partition, kafka_offset, lsn, applied_at FROM cdc_consumer_progress "
            "WHERE consumer = :c ORDER BY topic, kafka_partition"), {"c": settings().cdc_group})).all()
        owner_row = (await session.execute(text(f"SELECT owner FROM {owner} WHERE domain = :d"),
                                           {"d": domain.name})).scalar()
        body = {
            "domain": domain.name,
            "write_owner": owner_row or MONOLITH,
            "sources": sources,
            "partitions": [{"topic": t, "partition": p, "offset": o, "lsn": lsn, "applied_at": a.isoformat() if a else None}
                           for t, p, o, lsn, a in partitions],
            "outbox_pending": pending,
            "outbox_parked": parked,
            "parked": [{"id": i, "table": t, "row_id": r, "op": op, "attempts": n,
                        "parked_at": at.isoformat(), "next_attempt_at": nxt.isoformat() if nxt else None, "reason": why}
                       for i, t, r, op, n, at, nxt, why in parked_rows],
        }
        if position:
            from services.common.carve.position import applied_position

            body["position"] = await asyncio.to_thread(applied_position, domain, settings(), None,
                                                       target=position_target)
        if caught_up:
            from services.common.carve.catch_up import wait_caught_up

            # A new target each look would never be reached: the heartbeat that confirms it
            # is written after it. So one target, waited for.
            report = await asyncio.to_thread(wait_caught_up, domain, settings(), wait, target_lsn)
            body.update(caught_up=not report["behind"], catch_up=report)
        return body

    @router.get("/write-ownership")
    async def write_ownership():
        def read() -> dict:
            with psycopg.connect(plain_url(settings().database_url)) as conn:
                return ownership.current_owner(conn, domain)
        return {"domain": domain.name, **await asyncio.to_thread(read)}

    @router.post("/write-ownership")
    async def hand_over(request: Request):
        try:
            body = await request.json()
        except ValueError:
            raise ValidationError({"owner": ["A JSON body is required."]})
        wanted = body.get("owner") if isinstance(body, dict) else None
        who = str(body.get("who") or "unknown")[:200] if isinstance(body, dict) else "unknown"
        if wanted not in (SERVICE, MONOLITH):
            raise ValidationError({"owner": [f'"{wanted}" is not a valid choice.']})
        step = ownership.hand_to_service if wanted == SERVICE else ownership.hand_to_monolith
        try:
            result = await asyncio.to_thread(step, domain, settings(), who)
        except ownership.HandoverRefused as refused:
            return JSONResponse({"detail": refused.detail, **refused.report}, status_code=409)
        return {"domain": domain.name, **result}

    return router


