"""The response of every catalog list endpoint: DRF's page envelope, with counts reused while the
tables they count are unchanged (the kit's data versions, bumped by triggers: services/common/carve/migrations.py)."""
from __future__ import annotations

from typing import Any, Callable

from services.catalog.domain import DOMAIN
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from starlette.requests import Request

from services.common.carve.migrations import data_version_table
from services.common.count_cache import CountCache
from services.common.pagination import PageRequest, paginate_query
from services.common.responses import JSONResponse

COUNTS = CountCache(data_version_table(DOMAIN))


async def page_response(request: Request, session: AsyncSession | AsyncConnection, page: PageRequest, rows, count,
                        serialize: Callable[[Any], dict]) -> JSONResponse:
    # Returned as a response, not a dict, so FastAPI does not walk it with jsonable_encoder first.
    return JSONResponse(await paginate_query(request, session, page, rows, count, serialize, counts=COUNTS))
