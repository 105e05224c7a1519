"""405 answers for the methods a DRF viewset route does not serve, with DRF's Allow header.

DRF checks permissions before it looks for the method's handler, so a refused method still answers
401/403 first when the caller may not write. Register each refusal right after the routes of its
path: FastAPI matches routes in order, and a fixed path (`/popular/`) must be refused before the
`/{pk}/` pattern would refuse it with the detail route's Allow header."""
from __future__ import annotations

from typing import Callable, Optional

from fastapi import APIRouter, Depends, Request

from services.catalog.dependencies import current_user
from services.catalog.permissions import require_artist_or_admin
from services.common.auth import Principal
from services.common.errors import MethodNotAllowed

# What the monolith's routers allow per kind of route (the Allow header, in DRF's order).
LIST_METHODS = ["GET", "POST", "HEAD", "OPTIONS"]
DETAIL_METHODS = ["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ACTION_METHODS = ["GET", "HEAD", "OPTIONS"]
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


def refuse(router: APIRouter, path: str, allowed: list[str],
           permission: Callable[[Optional[Principal], str], None] = require_artist_or_admin) -> None:
    """Answer every write method `allowed` lacks on `path` with 405 (after `permission`)."""

    async def method_not_allowed(request: Request, user: Optional[Principal] = Depends(current_user)):
        permission(user, request.method)
        raise MethodNotAllowed(request.method, allowed)

    refused = [m for m in WRITE_METHODS if m not in allowed]
    router.add_api_route(path, method_not_allowed, methods=refused, include_in_schema=False,
                         name=f"{path} not allowed")
