"""/api/v1/artists/ (catalog.views.ArtistViewSet) with /albums/ and /tracks/ of an artist."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.artist import service
from services.catalog.artist.albums import albums_page
from services.catalog.artist.models import artist_read
from services.catalog.database import database, db_session
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

router = APIRouter(prefix="/api/v1/artists", tags=["artists"])


@router.api_route("/", methods=["GET", "HEAD"])
async def list_artists(request: Request, user: Optional[Principal] = Depends(current_user),
                       page: PageRequest = Depends(paging), session: AsyncSession = Depends(db_session)):
    rows, count = service.list_statements(request.query_params)
    return await page_response(request, session, page, rows, count, lambda row: artist_read(row[0]))


@router.post("/", status_code=201)
async def create_artist(request: Request, user: Optional[Principal] = Depends(current_user),
                        session: AsyncSession = Depends(db_session)):
    require_artist_or_admin(user, request.method)
    return artist_read(await service.save(session, user, await request_data(request)))


@router.api_route("/{pk}/", methods=["GET", "HEAD"])
async def get_artist(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                     session: AsyncSession = Depends(db_session)):
    return JSONResponse(artist_read(await service.get(session, parse_pk(pk, "Artist"), request.query_params)))


@router.api_route("/{pk}/albums/", methods=["GET", "HEAD"])
async def artist_albums(pk: str, request: Request):
    # A hot read: its inputs are resolved by direct calls, in the order the dependencies would run
    # (negotiation and authentication, paging), not by FastAPI's dependency solver, and it reads
    # through a Core connection, not a Session (see artist/albums.py).
    await action_route(request, await current_user(request))
    page = await paging(request)
    artist_id = parse_pk(pk, "Artist")
    async with database().read_connection() as conn:
        return JSONResponse(await albums_page(request, conn, page, artist_id))


@router.api_route("/{pk}/tracks/", methods=["GET", "HEAD"])
async def artist_tracks(pk: str, request: Request, user: Optional[Principal] = Depends(action_route),
                        page: PageRequest = Depends(paging), session: AsyncSession = Depends(db_session)):
    artist_id = await service.existing_id(session, parse_pk(pk, "Artist"), request.query_params)
    rows, count = tracks.list_statements(request.query_params, artist_id=artist_id)
    return await page_response(request, session, page, rows, count, track_read)


@router.api_route("/{pk}/", methods=["PUT", "PATCH"])
async def update_artist(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                        session: AsyncSession = Depends(db_session)):
    require_artist_or_admin(user, request.method)
    artist = await service.get(session, parse_pk(pk, "Artist"), request.query_params)
    require_owner_or_admin(user, request.method, artist.user_id)
    data = await request_data(request)
    return artist_read(await service.save(session, user, data, artist, partial=request.method == "PATCH"))


@router.delete("/{pk}/", status_code=204)
async def delete_artist(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                        session: AsyncSession = Depends(db_session)):
    require_artist_or_admin(user, request.method)
    artist = await service.get(session, parse_pk(pk, "Artist"), request.query_params)
    require_owner_or_admin(user, request.method, artist.user_id)
    await service.delete(session, artist)
    return Response(status_code=204)


refuse(router, "/", LIST_METHODS)
refuse(router, "/{pk}/", DETAIL_METHODS)
refuse(router, "/{pk}/albums/", ACTION_METHODS)
refuse(router, "/{pk}/tracks/", ACTION_METHODS)
