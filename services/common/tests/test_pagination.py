"""services.common.pagination against the monolith's own paginator (vobemusic.pagination.StandardPagination,
DRF PageNumberPagination): the same envelope, links, page-size rules and 'Invalid page.' 404s."""
from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework import exceptions as drf_exceptions
from rest_framework.request import Request as DRFRequest
from rest_framework.utils import urls as drf_urls
from starlette.requests import Request
from vobemusic.pagination import StandardPagination

from services.common.errors import NotFound
from services.common.pagination import (Page, count_key, page_number, page_request, paginate,
                                        paginate_with_total, remove_query_param, replace_query_param)

PATH = "/api/v1/tracks/"


def service_request(query: str = "", headers: dict | None = None, path: str = PATH, **scope_extra) -> Request:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode("latin-1"),
             "scheme": "http", "server": ("testserver", 80), "headers": raw, "root_path": "", **scope_extra}
    return Request(scope)


def drf_envelope(rows: list, query: str, headers: dict | None = None, path: str = PATH):
    django_request = RequestFactory().get(path + ("?" + query if query else ""), headers=headers or {})
    request = DRFRequest(django_request)
    paginator = StandardPagination()
    try:
        page = paginator.paginate_queryset(rows, request)
    except drf_exceptions.NotFound as exc:
        return 404, {"detail": str(exc.detail)}
    return 200, dict(paginator.get_paginated_response(page).data)


async def service_envelope(rows: list, query: str, headers: dict | None = None, path: str = PATH, **scope):
    request = service_request(query, headers, path, **scope)
    paging = page_request(request)

    async def count():
        return len(rows)

    async def fetch(offset, limit):
        return rows[offset:offset + limit]

    try:
        return 200, await paginate(request, paging, count, fetch)
    except NotFound as exc:
        return exc.status_code, exc.body()


QUERIES = ["", "page=1", "page=2", "page=3", "page=last", "page=", "page=0", "page=-1", "page=99", "page=abc",
           "page=1.0", "page=2.5", "page=%202", "page_size=7", "page_size=7&page=2", "page_size=7&page=last",
           "page_size=1000&page=2", "page_size=0", "page_size=-3", "page_size=abc", "page_size=", "page_size=100",
           "page=2&b=1&a=2", "z=1&page=3&a=x&a=y", "q=a%20b&page=2", "q=a+b&page=2", "q=%C3%A9t%C3%A9&page=2",
           "flag&page=2", "empty=&page=2", "page=2&page=3", "ordering=-popularity,id&page=2&page_size=5"]


@pytest.mark.parametrize("total", [0, 1, 19, 20, 21, 41, 100, 137])
@pytest.mark.parametrize("query", QUERIES)
async def test_envelope_equals_drf(total, query):
    rows = [{"id": i} for i in range(total)]
    assert await service_envelope(rows, query, {"Host": "localhost:8080"}) == drf_envelope(
        rows, query, {"Host": "localhost:8080"})


HEADERS = [
    {},                                                                      # SERVER_NAME
    {"Host": "localhost"},
    {"Host": "127.0.0.1:8101"},
    {"Host": "localhost:8080", "X-Forwarded-Proto": "https"},
    {"Host": "localhost:8080", "X-Forwarded-Proto": "https, http"},
    {"Host": "localhost:8080", "X-Forwarded-Proto": " https ,http"},
    {"Host": "localhost:8080", "X-Forwarded-Proto": "http, https"},
    {"Host": "localhost:8080", "X-Forwarded-Proto": "HTTPS"},
    {"Host": "localhost:8080", "X-Forwarded-Proto": "wss"},
    {"Host": "internal:8101", "X-Forwarded-Host": "api.example.com"},
    {"Host": "internal:8101", "X-Forwarded-Host": "api.example.com:8443", "X-Forwarded-Proto": "https"},
    {"X-Forwarded-Host": "[::1]:8000"},
]


@pytest.mark.parametrize("headers", HEADERS)
async def test_links_honour_forwarded_headers_like_django(headers, settings):
    settings.ALLOWED_HOSTS = ["*"]
    rows = list(range(60))
    for query in ("page=2&x=1", "page=3"):
        assert await service_envelope(rows, query, headers) == drf_envelope(rows, query, headers)


async def test_links_use_the_clients_path_before_format_suffix_routing(settings):
    settings.ALLOWED_HOSTS = ["*"]
    rows = list(range(60))
    # AppendSlash routes /api/v1/tracks.json to /api/v1/tracks/ and keeps the client's path in public_path.
    service = await service_envelope(rows, "page=2", {"Host": "localhost"}, path=PATH,
                                     public_path="/api/v1/tracks.json")
    assert service == drf_envelope(rows, "page=2", {"Host": "localhost"}, path="/api/v1/tracks.json")
    assert service[1]["next"] == "http://localhost/api/v1/tracks.json?page=3"


async def test_links_escape_the_path_like_django(settings):
    settings.ALLOWED_HOSTS = ["*"]
    rows = list(range(60))
    path = "/api/v1/tracks/a b/été;x/"
    assert await service_envelope(rows, "page=2", {"Host": "localhost"}, path=path) == drf_envelope(
        rows, "page=2", {"Host": "localhost"}, path=path)


def test_envelope_shape_and_links_literally():
    # Independent of DRF: the literal answers the monolith gives (documented in the parity suite).
    request = service_request("page=2&b=1&a=2", {"Host": "localhost:8080", "X-Forwarded-Proto": "https"})
    assert Page(2, 20, 100).links(request) == ("https://localhost:8080/api/v1/tracks/?a=2&b=1&page=3",
                                               "https://localhost:8080/api/v1/tracks/?a=2&b=1")
    assert Page(3, 20, 100).links(request)[1] == "https://localhost:8080/api/v1/tracks/?a=2&b=1&page=2"
    assert Page(5, 20, 100).links(request)[0] is None
    assert Page(1, 20, 0).links(request) == (None, None)


@pytest.mark.parametrize("url", ["http://h/p", "http://h/p?x=1", "http://h/p?page=9&b=2&a=1", "http://h/p?a=1&a=2",
                                 "http://h/p?k&z=", "http://h/p?q=a+b%26c", "http://h/p?q=%C3%A9", "http://h/p?x=1#f",
                                 "https://h:8/p/?page=1&page=2"])
def test_query_re_encoding_equals_drf(url):
    for value in (1, 2, 17):
        assert replace_query_param(url, "page", value) == drf_urls.replace_query_param(url, "page", value)
    assert remove_query_param(url, "page") == drf_urls.remove_query_param(url, "page")


@pytest.mark.parametrize("raw, count, size, expected", [
    ("1", 0, 20, 1), ("1", 20, 20, 1), ("2", 21, 20, 2), ("last", 0, 20, 1), ("last", 40, 20, 2),
    ("last", 41, 20, 3), ("3", 41, 20, 3), (" 2", 41, 20, 2),
])
def test_page_number_valid(raw, count, size, expected):
    assert page_number(raw, count, size) == expected


@pytest.mark.parametrize("raw", ["0", "-1", "4", "1.0", "abc", "", "Last", "1e1", None])
def test_page_number_invalid_is_drf_404(raw):
    with pytest.raises(NotFound) as exc:
        page_number(raw, 41, 20)
    assert exc.value.status_code == 404
    assert exc.value.body() == {"detail": "Invalid page."}


def test_page_request_rules():
    assert page_request(service_request()).page == "1"
    assert page_request(service_request("page=")).page == "1"
    assert page_request(service_request("page=last")).page == "last"
    assert page_request(service_request("page_size=50")).page_size == 50
    assert page_request(service_request("page_size=101")).page_size == 100
    assert page_request(service_request("page_size=5"), page_size=10, max_page_size=3).page_size == 3
    assert page_request(service_request("page_size=x"), page_size=10).page_size == 10
    assert page_request(service_request("page_size=1.5")).page_size == 20


async def test_first_page_skips_the_count_when_short_and_counts_when_full():
    calls = []

    async def count():
        calls.append("count")
        return 999

    async def fetch(offset, limit):
        return [1] * 5

    request = service_request()
    assert (await paginate(request, page_request(request), count, fetch))["count"] == 5
    assert calls == []

    async def full(offset, limit):
        return [1] * limit

    assert (await paginate(request, page_request(request), count, full))["count"] == 999
    assert calls == ["count"]


class Row:
    def __init__(self, i, total):
        self.id, self.total = i, total


async def test_paginate_with_total_matches_paginate():
    rows = [{"id": i} for i in range(45)]
    for query in ("", "page=2", "page=3", "page_size=10&page=5", "page=4"):
        request = service_request(query, {"Host": "localhost"})
        paging = page_request(request)

        async def fetch(offset, limit):
            return [Row(r["id"], len(rows)) for r in rows[offset:offset + limit]]

        try:
            one_query = await paginate_with_total(request, paging, fetch, lambda row: {"id": row.id})
        except NotFound as exc:
            one_query = exc.body()
        assert one_query == (await service_envelope(rows, query, {"Host": "localhost"}))[1]


async def test_paginate_with_total_defers_to_paginate_and_orders_404s():
    async def none(offset, limit):
        return []

    for query in ("page=last", "page=abc", "page=0", "page=-2"):
        request = service_request(query)
        assert await paginate_with_total(request, page_request(request), none, dict) is None
    request = service_request()
    assert await paginate_with_total(request, page_request(request), none, dict) == {
        "count": 0, "next": None, "previous": None, "results": []}

    class ParentMissing(Exception):
        pass

    async def parent_404():
        raise ParentMissing()

    request = service_request("page=2")
    with pytest.raises(ParentMissing):     # the parent's 404 comes before 'Invalid page.'
        await paginate_with_total(request, page_request(request), none, dict, when_empty=parent_404)
    with pytest.raises(NotFound) as exc:
        await paginate_with_total(request, page_request(request), none, dict)
    assert exc.value.body() == {"detail": "Invalid page."}


def test_count_key_ignores_paging_parameters_only():
    a = count_key(service_request("page=2&page_size=5&genre=1&q=x"))
    assert a == count_key(service_request("q=x&genre=1&page=9"))
    assert a == ("/api/v1/tracks/", (("genre", "1"), ("q", "x")))
    assert a != count_key(service_request("genre=2&q=x"))
    assert a != count_key(service_request("genre=1&q=x", path="/api/v1/albums/"))
