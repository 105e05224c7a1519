"""/api/v1/tracks/ (catalog.views.TrackViewSet): list, popular, detail, create, update, delete."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.database import database, db_session
from services.catalog.dependencies import action_route, current_user, paging
from services.catalog.listing import page_response
from services.catalog.not_allowed import ACTION_METHODS, DETAIL_METHODS, LIST_METHODS, refuse
from services.catalog.permissions import require_artist_or_admin, require_owner_or_admin
from services.catalog.track import service, writes
from services.catalog.track.models import track_read
from services.common.auth import Principal
from services.common.errors import not_found_for
from services.common.requests import parse_pk, request_data
from services.common.responses import JSONResponse

router = APIRouter(prefix="/api/v1/tracks", tags=["tracks"])


# The GET handlers are hot reads: their inputs are resolved by direct calls, in the order the
# dependencies would run (negotiation and authentication, then paging), not by FastAPI's dependency
# solver, and they read through a Core connection, not a Session (Database.read_connection).

@router.api_route("/", methods=["GET", "HEAD"])
async def list_tracks(request: Request):
    await current_user(request)
    page = await paging(request)
    rows, count = service.list_statements(request.query_params)
    async with database().read_connection() as conn:
        return await page_response(request, conn, page, rows, count, track_read)


@router.post("/", status_code=201)
async def create_track(request: Request, user: Optional[Principal] = Depends(current_user),
                       session: AsyncSession = Depends(db_session)):
    require_artist_or_admin(user, request.method)
    track_id = await writes.create(session, user, await request_data(request))
    return track_read(await service.get_row(session, track_id, {}))


@router.api_route("/popular/", methods=["GET", "HEAD"])
async def popular_tracks(request: Request):
    """Most popular first unless ?ordering= is given; the list filters apply."""
    await action_route(request, await current_user(request))
    page = await paging(request)
    rows, count = service.list_statements(request.query_params, popular=True)
    async with database().read_connection() as conn:
        return await page_response(request, conn, page, rows, count, track_read)


refuse(router, "/popular/", ACTION_METHODS)     # before /{pk}/, which would refuse it as a detail route


@router.api_route("/{pk}/", methods=["GET", "HEAD"])
async def get_track(pk: str, request: Request):
    await current_user(request)
    track_id = parse_pk(pk, "Track")
    async with database().read_connection() as conn:
        row = await service.get_row(conn, track_id, request.query_params)
    if row is None:
        raise not_found_for("Track")
    return JSONResponse(track_read(row))


@router.api_route("/{pk}/", methods=["PUT", "PATCH"])
async def update_track(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                       session: AsyncSession = Depends(db_session)):
    require_artist_or_admin(user, request.method)
    track_id = parse_pk(pk, "Track")
    owner = await writes.owner_of(session, track_id, request.query_params)
    require_owner_or_admin(user, request.method, owner)
    await writes.update(session, user, track_id, await request_data(request), partial=request.method == "PATCH")
    return track_read(await service.get_row(session, track_id, {}))


@router.delete("/{pk}/", status_code=204)
async def delete_track(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                       session: AsyncSession = Depends(db_session)):
    require_artist_or_admin(user, request.method)
    track_id = parse_pk(pk, "Track")
    owner = await writes.owner_of(session, track_id, request.query_params)
    require_owner_or_admin(user, request.method, owner)
    await writes.delete(session, track_id)
    return Response(status_code=204)


refuse(router, "/", LIST_METHODS)
refuse(router, "/{pk}/", DETAIL_METHODS)
