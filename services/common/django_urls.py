"""Django's URL-level behaviour that clients can observe, reproduced for the paths a service takes over:

- APPEND_SLASH (CommonMiddleware): a path without its trailing slash that would match with one gets a
  301 to the slashed path (query string kept, relative Location), for every method;
- unmatched paths get Django's plain HTML 404 page (not a DRF JSON body);
- Django's plain HTML 400 (disallowed host) and 500 pages.
"""
from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import quote

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

_ERROR_PAGE = """
<!doctype html>
<html lang="en">
<head>
  <title>%(title)s</title>
</head>
<body>
  <h1>%(title)s</h1><p>%(details)s</p>
</body>
</html>
"""
_PAGES = {
    400: {"title": "Bad Request (400)", "details": ""},
    404: {"title": "Not Found", "details": "The requested resource was not found on this server."},
    500: {"title": "Server Error (500)", "details": ""},
}


def django_error_page(status: int) -> Response:
    """django.views.defaults' page for 400/404/500 (no custom templates in the monolith)."""
    return Response(_ERROR_PAGE % _PAGES[status], status_code=status, media_type="text/html; charset=utf-8")


def escape_uri_path(path: str) -> str:
    """django.utils.encoding.escape_uri_path."""
    return quote(path, safe="/:@&+$,-_.!~*'()")


def iri_to_uri(text: str) -> str:
    """django.utils.encoding.iri_to_uri (what Django applies to the query string of a redirect)."""
    return quote(text, safe="/#%[]=:;$&()+,!?*@'~")


class AppendSlash:
    """ASGI middleware: Django's APPEND_SLASH for a service's URL patterns.

    `patterns` are regular expressions over the full path (e.g. the ones DRF's router generates:
    r"^/api/v1/tracks/(?P<pk>[^/.]+)/$"). A request whose path matches none of them but would match
    with a trailing slash is redirected; one that matches neither gets the HTML 404."""

    def __init__(self, app: ASGIApp, patterns: Iterable[str], prefixes: Iterable[str] = ()):
        self.app = app
        self.patterns = [re.compile(p) for p in patterns]
        # Paths outside these prefixes (healthz, metrics, internal) are passed through untouched.
        self.prefixes = tuple(prefixes)

    def matches(self, path: str) -> bool:
        return any(p.match(path) for p in self.patterns)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if self.prefixes and not path.startswith(self.prefixes):
            return await self.app(scope, receive, send)
        if self.matches(path):
            return await self.app(scope, receive, send)
        if not path.endswith("/") and self.matches(path + "/"):
            location = escape_uri_path(path + "/")
            query = scope.get("query_string", b"")
            if query:
                location += "?" + iri_to_uri(query.decode("latin-1"))
            response = Response(b"", status_code=301, headers={"Location": location},
                                media_type="text/html; charset=utf-8")
        else:
            response = django_error_page(404)
        await response(scope, receive, send)
