"""What the search endpoints do, as plain functions over a backend (handlers stay a few lines)."""
from __future__ import annotations

from typing import Optional

from starlette.requests import Request

from services.common.errors import NotFound
from services.common.pagination import Page, PageRequest, page_number
from services.search.index_backend import SearchBackend, SearchPage, SearchRequest
from services.search.query_parser import TextQuery, TrackFilters

MIXED_RESULTS_PER_TYPE = 5              # legacy search.views.MixedSearchView
SUGGEST_ORDER = ("artist", "track", "album")  # legacy: artists first, then tracks, then albums
SECTIONS = {"tracks": "track", "artists": "artist", "albums": "album", "posts": "post"}


def _request(kind: str, query: TextQuery, filters: Optional[TrackFilters], offset: int, limit: int, count=True):
    return SearchRequest(
        kind=kind, terms=query.terms, offset=offset, limit=limit, count=count,
        integer_equals=filters.integer_equals if filters else {},
        integer_ranges=filters.integer_ranges if filters else {},
        keyword_equals=filters.keyword_equals if filters else {},
    )


def _run(backend: SearchBackend, request: SearchRequest) -> SearchPage:
    # A query made only of punctuation has no words to look for: nothing matches.
    if not request.terms:
        return SearchPage(count=0, hits=[])
    return backend.search(request)


def search_page(backend: SearchBackend, request: Request, paging: PageRequest, kind: str,
                query: TextQuery, filters: Optional[TrackFilters] = None) -> dict:
    """One page of hits of one kind in the DRF envelope. The count and the page come from one
    engine query; page numbers are validated against that count as Django's paginator does."""
    if paging.page == "last":
        total = _run(backend, _request(kind, query, filters, 0, 0)).count
        number = page_number("last", total, paging.page_size)
    else:
        try:
            number = int(paging.page)
        except ValueError:
            raise NotFound("Invalid page.")
        if number < 1:
            raise NotFound("Invalid page.")
    result = _run(backend, _request(kind, query, filters, (number - 1) * paging.page_size, paging.page_size))
    page = Page(page_number(str(number), result.count, paging.page_size), paging.page_size, result.count)
    next_link, previous = page.links(request)
    return {"count": result.count, "next": next_link, "previous": previous, "results": result.hits}


def mixed_search(backend: SearchBackend, query: TextQuery) -> dict:
    body: dict = {"query": query.text}
    for section, kind in SECTIONS.items():
        result = _run(backend, _request(kind, query, None, 0, MIXED_RESULTS_PER_TYPE))
        body[section] = {"count": result.count, "results": result.hits}
    return body


def suggest(backend: SearchBackend, query: TextQuery, limit: int) -> dict:
    found: list[dict] = []
    if query.terms:
        for kind in SUGGEST_ORDER:
            if len(found) >= limit:
                break
            # Only as many as are still missing: each suggestion is a stored document to load.
            found += [{"type": s.kind, "id": s.id, "text": s.text}
                      for s in backend.suggest(kind, query.terms, limit - len(found))]
    return {"query": query.text, "suggestions": found[:limit]}
