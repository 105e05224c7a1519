"""The monolith's search endpoints (legacy_monolith/search/urls.py), same paths and response shapes.

Search handlers are sync on purpose: the engine call blocks for milliseconds (tantivy releases the
GIL while it searches), so they run in the thread pool, in parallel, instead of stalling the event
loop. `/suggest/` on the embedded engine is the exception: it is called on every keystroke and answers
in about a millisecond, less than the thread-pool hand-off costs; on the loop it serves a third more
requests per second. On Elasticsearch (network round trips) it stays in the thread pool.
Handlers return the JSONResponse themselves: a plain dict would first go through FastAPI's
jsonable_encoder, which walks every hit in Python and cost more than the search itself (several ms per
page of 20 tracks under load); the bodies are already JSON types, which orjson renders directly."""
from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from services.common.pagination import page_request
from services.common.responses import JSONResponse
from services.search import query_parser, service

PREFIX = "/api/v1/search"
# Plain Django paths in the monolith (not a DRF router), as url bases without the trailing slash.
URL_BASES = [re.escape(PREFIX), *(re.escape(f"{PREFIX}/{name}") for name in ("tracks", "artists", "albums", "posts", "suggest"))]

router = APIRouter(prefix=PREFIX)


def _backend(request: Request):
    return request.app.state.search_backend


def _paging(request: Request):
    settings = request.app.state.settings
    return page_request(request, settings.page_size, settings.max_page_size)


@router.get("/")
def mixed(request: Request):
    query = query_parser.parse_text_query(request.query_params)
    return JSONResponse(service.mixed_search(_backend(request), query))


@router.get("/tracks/")
def tracks(request: Request):
    query = query_parser.parse_text_query(request.query_params)
    filters = query_parser.parse_track_filters(request.query_params)
    return JSONResponse(service.search_page(_backend(request), request, _paging(request), "track", query, filters))


@router.get("/artists/")
def artists(request: Request):
    query = query_parser.parse_text_query(request.query_params)
    return JSONResponse(service.search_page(_backend(request), request, _paging(request), "artist", query))


@router.get("/albums/")
def albums(request: Request):
    query = query_parser.parse_text_query(request.query_params)
    return JSONResponse(service.search_page(_backend(request), request, _paging(request), "album", query))


@router.get("/posts/")
def posts(request: Request):
    query = query_parser.parse_text_query(request.query_params)
    return JSONResponse(service.search_page(_backend(request), request, _paging(request), "post", query))


@router.get("/suggest/")
async def suggest(request: Request):
    query, limit = query_parser.parse_suggest_query(request.query_params)
    backend = _backend(request)
    if backend.in_process:
        return JSONResponse(service.suggest(backend, query, limit))
    return JSONResponse(await run_in_threadpool(service.suggest, backend, query, limit))
