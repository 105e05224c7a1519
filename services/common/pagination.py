"""DRF PageNumberPagination, as the monolith configures it (vobemusic.pagination.StandardPagination):
`?page=N` (or `last`), `?page_size=N` capped at 100, default 20, and the envelope

    {"count": 123, "next": "http://host/path?page=3", "previous": "http://host/path?page=1"...}

Links are the request's absolute URL with `page` replaced (or removed for page 1), the query
re-encoded with sorted keys exactly like rest_framework.utils.urls.replace_query_param does."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional, Sequence
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from sqlalchemy import func
from starlette.requests import Request

from services.common.count_cache import CountCache
from services.common.errors import NotFound
from services.common.public_url import absolute_uri


@dataclass(frozen=True)
class PageRequest:
    """The client's paging parameters, parsed the DRF way (see `page_request`)."""

    page: str            # raw value of ?page (validated against the count later, as Django does)
    page_size: int


def _positive_int(text: str, cutoff: int) -> int:
    # rest_framework.pagination._positive_int(strict=True)
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return min(value, cutoff)


def page_request(request: Request, page_size: int = 20, max_page_size: int = 100) -> PageRequest:
    params = request.query_params
    size = page_size
    if "page_size" in params:
        try:
            size = _positive_int(params["page_size"], max_page_size)
        except (KeyError, ValueError):
            size = page_size
    return PageRequest(page=params.get("page") or "1", page_size=size)


def page_number(raw: str, count: int, page_size: int) -> int:
    """django.core.paginator.Paginator.validate_number (+ DRF's `last`); 404 'Invalid page.' otherwise."""
    num_pages = max(1, math.ceil(max(1, count) / page_size))  # allow_empty_first_page, no orphans
    if raw == "last":
        return num_pages
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise NotFound("Invalid page.")
    if number < 1 or number > num_pages:
        raise NotFound("Invalid page.")
    return number


def replace_query_param(url: str, key: str, value: Any) -> str:
    scheme, netloc, path, query, fragment = urlsplit(url)
    query_dict = parse_qs(query, keep_blank_values=True)
    query_dict[key] = [str(value)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query_dict.items()), doseq=True), fragment))


def remove_query_param(url: str, key: str) -> str:
    scheme, netloc, path, query, fragment = urlsplit(url)
    query_dict = parse_qs(query, keep_blank_values=True)
    query_dict.pop(key, None)
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query_dict.items()), doseq=True), fragment))


@dataclass(frozen=True)
class Page:
    number: int
    page_size: int
    count: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.page_size

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(max(1, self.count) / self.page_size))

    def links(self, request: Request) -> tuple[Optional[str], Optional[str]]:
        url = absolute_uri(request)
        next_link = replace_query_param(url, "page", self.number + 1) if self.number < self.num_pages else None
        if self.number <= 1:
            previous = None
        elif self.number == 2:
            previous = remove_query_param(url, "page")
        else:
            previous = replace_query_param(url, "page", self.number - 1)
        return next_link, previous


async def paginate(
    request: Request,
    paging: PageRequest,
    count: Callable[[], Awaitable[int]],
    fetch: Callable[[int, int], Awaitable[Sequence[Any]]],
) -> dict:
    """The DRF envelope for one page: `count()` gives the total, `fetch(offset, limit)` the rows,
    already serialised to JSON-ready dicts."""
    if paging.page == "1":
        # The first page is always valid: fetch it first, and a short one is the whole list, so
        # the count (the costly query) is only needed when the list goes on.
        results = list(await fetch(0, paging.page_size))
        total = len(results) if len(results) < paging.page_size else await count()
        page = Page(1, paging.page_size, total)
    else:
        total = await count()
        page = Page(page_number(paging.page, total, paging.page_size), paging.page_size, total)
        results = list(await fetch(page.offset, page.page_size)) if total else []
    next_link, previous = page.links(request)
    return {"count": total, "next": next_link, "previous": previous, "results": results}


PAGING_PARAMS = ("page", "page_size")


def count_key(request: Request) -> tuple:
    """What a list's total depends on: the path and the query string without the paging parameters."""
    return request.url.path, tuple(sorted((k, v) for k, v in request.query_params.multi_items() if k not in PAGING_PARAMS))


async def paginate_query(request: Request, session, paging: PageRequest, rows_stmt, count_stmt,
                         serialize: Callable[[Any], dict], counts: Optional[CountCache] = None) -> dict:
    """`paginate` for SQLAlchemy: `rows_stmt` is the ordered SELECT (LIMIT/OFFSET are added),
    `count_stmt` a SELECT count(*) over the same filters, answered from `counts` while the data
    it counts is unchanged (keyed by the path and query string: all a list's count depends on)."""

    async def count() -> int:
        if counts is not None:
            return await counts.count(session, count_stmt, key=count_key(request))
        return (await session.execute(count_stmt)).scalar_one()

    async def fetch(offset: int, limit: int):
        result = await session.execute(rows_stmt.offset(offset).limit(limit))
        return [serialize(row) for row in result]

    return await paginate(request, paging, count, fetch)


OFFSET_MAX = 2**63 - 1     # Postgres' bigint OFFSET


def with_total(stmt):
    """`stmt` plus the size of the whole filtered list on every row, as `total` (count(*) OVER ()
    is computed before LIMIT/OFFSET). Worth it where the filtered list is small, such as a parent's
    children found through an index; on a large list it costs as much as counting."""
    return stmt.add_columns(func.count().over().label("total"))


async def paginate_with_total(request: Request, paging: PageRequest,
                              fetch: Callable[[int, int], Awaitable[Sequence[Any]]],
                              serialize: Callable[[Any], dict],
                              when_empty: Optional[Callable[[], Awaitable[None]]] = None) -> Optional[dict]:
    """`paginate` in one query: `fetch(offset, limit)` returns the page's rows of an ordered
    statement `with_total`, so they carry the count. A page with rows is valid; an empty page is
    valid only as page 1 (count 0), after `when_empty()` has had its say (e.g. the parent's 404
    comes before 'Invalid page.'). None for `?page=last` or a page that is not a positive
    number: use `paginate` for those."""
    try:
        number = int(paging.page)          # what Paginator.validate_number accepts
    except (TypeError, ValueError):
        return None
    if number < 1 or (number - 1) * paging.page_size > OFFSET_MAX:
        return None
    rows = await fetch((number - 1) * paging.page_size, paging.page_size)
    if rows:
        total = rows[0].total
    else:
        if when_empty is not None:
            await when_empty()
        if number > 1:
            raise NotFound("Invalid page.")
        total = 0
    next_link, previous = Page(number, paging.page_size, total).links(request)
    return {"count": total, "next": next_link, "previous": previous, "results": [serialize(row) for row in rows]}
