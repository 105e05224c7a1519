"""/api/v1/albums/ (catalog.views.AlbumViewSet) with /tracks/ of an album."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.album import service
from services.catalog.album.models import Album, album_read
from services.catalog.database import db_session
from services.catalog.dependencies import action_route, current_user, paging
from services.catalog.listing import page_response
from services.catalog.not_allowed import ACTION_METHODS, DETAIL_METHODS, LIST_METHODS, refuse
from services.catalog.permissions import require_artist_or_admin, require_owner_or_admin
from services.catalog.track import service as tracks
from services.catalog.track.models import track_read
from services.common.auth import Principal
from services.common.pagination import PageRequest
from services.common.requests import parse_pk, request_data
from services.common.responses import JSONResponse

router = APIRouter(prefix="/api/v1/albums", tags=["albums"])


@router.api_route("/", methods=["GET", "HEAD"])
async def list_albums(request: Request, user: Optional[Principal] = Depends(current_user),
                      page: PageRequest = Depends(paging), session: AsyncSession = Depends(db_session)):
    rows, count = service.list_statements(request.query_params)
    return await page_response(request, session, page, rows, count, album_read)


@router.post("/", status_code=201)
async def create_album(request: Request, user: Optional[Principal] = Depends(current_user),
                       session: AsyncSession = Depends(db_session)):
    require_artist_or_admin(user, request.method)
    album_id = await service.save(session, user, await request_data(request))
    return album_read(await service.get_row(session, album_id, {}))


@router.api_route("/{pk}/", methods=["GET", "HEAD"])
async def get_album(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                    session: AsyncSession = Depends(db_session)):
    return JSONResponse(album_read(await service.get_row(session, parse_pk(pk, "Album"), request.query_params)))


@router.api_route("/{pk}/tracks/", methods=["GET", "HEAD"])
async def album_tracks(pk: str, request: Request, user: Optional[Principal] = Depends(action_route),
                       page: PageRequest = Depends(paging), session: AsyncSession = Depends(db_session)):
    album = await service.get_row(session, parse_pk(pk, "Album"), request.query_params)
    rows, count = tracks.list_statements(request.query_params, album_id=album.id)
    return await page_response(request, session, page, rows, count, track_read)


@router.api_route("/{pk}/", methods=["PUT", "PATCH"])
async def update_album(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                       session: AsyncSession = Depends(db_session)):
    require_artist_or_admin(user, request.method)
    album_id = parse_pk(pk, "Album")
    require_owner_or_admin(user, request.method, await service.owner_of(session, album_id, request.query_params))
    album = await session.get(Album, album_id)
    await service.save(session, user, await request_data(request), album, partial=request.method == "PATCH")
    return album_read(await service.get_row(session, album_id, {}))


@router.delete("/{pk}/", status_code=204)
async def delete_album(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                       session: AsyncSession = Depends(db_session)):
    require_artist_or_admin(user, request.method)
    album_id = parse_pk(pk, "Album")
    require_owner_or_admin(user, request.method, await service.owner_of(session, album_id, request.query_params))
    await service.delete(session, album_id)
    return Response(status_code=204)


refuse(router, "/", LIST_METHODS)
refuse(router, "/{pk}/", DETAIL_METHODS)
refuse(router, "/{pk}/tracks/", ACTION_METHODS)
