"""/api/v1/genres/ (catalog.views.GenreViewSet)."""
from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalog.database import db_session
from services.catalog.dependencies import current_user, paging
from services.catalog.listing import page_response
from services.catalog.genre import service
from services.catalog.genre.models import genre_read
from services.catalog.not_allowed import DETAIL_METHODS, LIST_METHODS, refuse
from services.catalog.permissions import require_admin
from services.common.auth import Principal
from services.common.pagination import PageRequest
from services.common.requests import parse_pk, request_data
from services.common.responses import JSONResponse

router = APIRouter(prefix="/api/v1/genres", tags=["genres"])


@router.api_route("/", methods=["GET", "HEAD"])
async def list_genres(request: Request, user: Optional[Principal] = Depends(current_user),
                      page: PageRequest = Depends(paging), session: AsyncSession = Depends(db_session)):
    rows, count = service.list_statements(request.query_params)
    return await page_response(request, session, page, rows, count, lambda row: genre_read(row[0]))


@router.post("/", status_code=201)
async def create_genre(request: Request, user: Optional[Principal] = Depends(current_user),
                       session: AsyncSession = Depends(db_session)):
    require_admin(user, request.method)
    return genre_read(await service.save(session, await request_data(request)))


@router.api_route("/{pk}/", methods=["GET", "HEAD"])
async def get_genre(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                    session: AsyncSession = Depends(db_session)):
    return JSONResponse(genre_read(await service.get(session, parse_pk(pk, "Genre"), request.query_params)))


@router.api_route("/{pk}/", methods=["PUT", "PATCH"])
async def update_genre(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                       session: AsyncSession = Depends(db_session)):
    require_admin(user, request.method)
    genre = await service.get(session, parse_pk(pk, "Genre"), request.query_params)
    return genre_read(await service.save(session, await request_data(request), genre, partial=request.method == "PATCH"))


@router.delete("/{pk}/", status_code=204)
async def delete_genre(pk: str, request: Request, user: Optional[Principal] = Depends(current_user),
                       session: AsyncSession = Depends(db_session)):
    require_admin(user, request.method)
    await service.delete(session, await service.get(session, parse_pk(pk, "Genre"), request.query_params))
    return Response(status_code=204)


refuse(router, "/", LIST_METHODS, require_admin)
refuse(router, "/{pk}/", DETAIL_METHODS, require_admin)
