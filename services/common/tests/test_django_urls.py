"""services.common.django_urls against the monolith's real URLconf and Django's CommonMiddleware: which
paths resolve (with DefaultRouter's format suffixes), APPEND_SLASH's 301 and Django's HTML 404."""
from __future__ import annotations

import pytest
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import Resolver404, resolve
from django.utils.encoding import escape_uri_path as django_escape_uri_path
from django.utils.encoding import iri_to_uri as django_iri_to_uri
from django.views import defaults as django_defaults
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.testclient import TestClient

from services.catalog.main import PUBLIC_PREFIXES, URL_BASES
from services.common.django_urls import AppendSlash, django_error_page, escape_uri_path, iri_to_uri, router_bases

PATHS = [
    "/api/v1/tracks/", "/api/v1/tracks", "/api/v1/tracks.json", "/api/v1/tracks.json/", "/api/v1/tracks.api",
    "/api/v1/tracks.JSON", "/api/v1/tracks/5/", "/api/v1/tracks/5", "/api/v1/tracks/5.json", "/api/v1/tracks/5.json/",
    "/api/v1/tracks/popular/", "/api/v1/tracks/popular", "/api/v1/tracks/popular.json", "/api/v1/tracks/a.b/",
    "/api/v1/tracks/5/extra/", "/api/v1/tracks//", "/api/v1/tracks/été/", "/api/v1/tracks/a b",
    "/api/v1/artists/3/albums/", "/api/v1/artists/3/albums", "/api/v1/artists/3/albums.json",
    "/api/v1/artists/3/tracks/", "/api/v1/artists/3/playlists/", "/api/v1/albums/9/tracks.json/",
    "/api/v1/genres/", "/api/v1/genres/rock/", "/api/v1/genres/rock", "/api/v1/genresx/", "/api/v1/genres/1/2/",
]


def django_resolution(path):
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.kwargs.get("format")


def service():
    return AppendSlash(None, URL_BASES, PUBLIC_PREFIXES)


@pytest.mark.parametrize("path", PATHS)
def test_resolution_and_format_suffix_equal_the_monoliths_urlconf(path):
    resolved = service().resolve(path)
    expected = django_resolution(path)
    if resolved is None:
        with pytest.raises(Resolver404):
            resolve(path)
    else:
        routed, suffix = resolved
        assert suffix == expected
        assert routed.endswith("/") and django_resolution(routed) is None


def downstream():
    async def echo(request):
        scope = request.scope
        return JSONResponse({"path": scope["path"], "public_path": scope.get("public_path"),
                             "format_suffix": scope.get("format_suffix"), "method": request.method})
    inner = Starlette()
    inner.add_route("/{rest:path}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    return TestClient(AppendSlash(inner, URL_BASES, PUBLIC_PREFIXES))


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path, query", [
    ("/api/v1/tracks", ""), ("/api/v1/tracks", "a=1&b=%C3%A9"), ("/api/v1/tracks/5", "x=a+b"),
    ("/api/v1/tracks/popular", "page=2"), ("/api/v1/artists/3/albums", ""), ("/api/v1/tracks/été", "q=1"),
])
def test_append_slash_redirect_equals_commonmiddleware(method, path, query):
    full = path + ("?" + query if query else "")
    django = getattr(Client(), method)(full)          # unresolved path: Django answers before any view runs
    ours = getattr(downstream(), method)(full, follow_redirects=False)
    assert django.status_code == 301
    assert ours.status_code == 301
    assert ours.headers["location"] == django["Location"]
    assert ours.content == b""


@pytest.mark.parametrize("path", ["/api/v1/tracks/5/extra/", "/api/v1/tracks/5/extra", "/api/v1/genres/1/2/",
                                  "/api/v1/tracks.json.json", "/api/v1/tracks/a.b.c/"])
def test_unmatched_paths_get_djangos_html_404(path):
    page = django_defaults.page_not_found(RequestFactory().get(path), Http404())
    django = Client().get(path)
    ours = downstream().get(path, follow_redirects=False)
    assert django.status_code == ours.status_code == 404
    assert ours.content == django.content == page.content
    assert ours.headers["content-type"] == django["Content-Type"]


def test_served_paths_and_format_suffix_routing():
    client = downstream()
    assert client.get("/api/v1/tracks/").json() == {"path": "/api/v1/tracks/", "public_path": None,
                                                    "format_suffix": None, "method": "GET"}
    assert client.get("/api/v1/tracks.json").json() == {"path": "/api/v1/tracks/", "public_path": "/api/v1/tracks.json",
                                                        "format_suffix": "json", "method": "GET"}
    assert client.post("/api/v1/tracks/5.api/").json() == {"path": "/api/v1/tracks/5/", "public_path":
                                                           "/api/v1/tracks/5.api/", "format_suffix": "api",
                                                           "method": "POST"}
    # Outside the service's prefixes nothing is rewritten, redirected or refused.
    assert client.get("/healthz").json()["path"] == "/healthz"
    assert client.get("/api/v1/playlists").json()["path"] == "/api/v1/playlists"


def test_router_bases_are_defaultrouter_patterns():
    bases = router_bases("/api/v1", "tracks", list_actions=["popular"], detail_actions=["similar"])
    assert bases == [r"/api/v1/tracks", r"/api/v1/tracks/popular", r"/api/v1/tracks/[^/.]+",
                     r"/api/v1/tracks/[^/.]+/similar"]


@pytest.mark.parametrize("status, view, args", [
    (400, django_defaults.bad_request, (Exception(),)),
    (404, django_defaults.page_not_found, (Http404(),)),
    (500, django_defaults.server_error, ()),
])
def test_error_pages_are_djangos(status, view, args):
    django = view(RequestFactory().get("/"), *args)
    ours = django_error_page(status)
    assert (ours.status_code, ours.body, ours.headers["content-type"]) == (
        django.status_code, django.content, django["Content-Type"])


@pytest.mark.parametrize("text", ["/a b/", "/été/", "/x?y#z", "/a%20b", "/~user/(x)*'!$&+,;=:@/", "/\u00a0/"])
def test_escaping_equals_django(text):
    assert escape_uri_path(text) == django_escape_uri_path(text)
    assert iri_to_uri(text) == django_iri_to_uri(text)
