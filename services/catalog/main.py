"""The catalog service's ASGI app: `uvicorn services.catalog.main:app`."""
from __future__ import annotations

from contextlib import asynccontextmanager

from services.catalog.album.views import router as album_router
from services.catalog.artist.views import router as artist_router
from services.catalog.config import get_settings
from services.catalog.database import database, db_session
from services.catalog.dependencies import authenticator
from services.catalog.domain import DOMAIN
from services.catalog.genre.views import router as genre_router
from services.catalog.track.views import router as track_router
from services.common.carve.service import carve_app
from services.common.django_urls import router_bases

PREFIX = "/api/v1"
# The monolith's catalog router (catalog/urls.py), in its registration order.
URL_BASES = [
    *router_bases(PREFIX, "genres"),
    *router_bases(PREFIX, "artists", detail_actions=["albums", "tracks"]),
    *router_bases(PREFIX, "albums", detail_actions=["tracks"]),
    *router_bases(PREFIX, "tracks", list_actions=["popular"]),
]
PUBLIC_PREFIXES = tuple(f"{PREFIX}/{name}" for name in ("genres", "artists", "albums", "tracks"))


@asynccontextmanager
async def lifespan(app):
    yield
    await database().dispose()


app = carve_app(
    DOMAIN, get_settings, database, authenticator,
    [genre_router, artist_router, album_router, track_router],
    public_prefixes=PUBLIC_PREFIXES,
    url_bases=URL_BASES,
    session=db_session,
    lifespan=lifespan,
)
