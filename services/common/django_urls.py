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


def router_bases(prefix: str, resource: str, list_actions: Iterable[str] = (),
                 detail_actions: Iterable[str] = ()) -> list[str]:
    """The paths DRF's DefaultRouter generates for a ViewSet, as regexes without the trailing slash,
    in the router's order (list, list actions, detail, detail actions); `[^/.]+` is its pk pattern."""
    root = re.escape(f"{prefix}/{resource}")
    return [
        root,
        *(root + "/" + re.escape(action) for action in list_actions),
        root + r"/[^/.]+",
        *(root + r"/[^/.]+/" + re.escape(action) for action in detail_actions),
    ]


class AppendSlash:
    """ASGI middleware: Django's URL resolution for the paths a service took over.

    `bases` are router paths without the trailing slash (see `router_bases`). Like Django + DRF:
    - `base/` is served;
    - `base.<format>` or `base.<format>/` (DefaultRouter's format suffixes) is served as `base/` with
      `scope["format_suffix"]` set; `scope["public_path"]` keeps the path the client used (for links);
    - a path that matches only with a slash appended gets a 301 to it (APPEND_SLASH, any method);
    - anything else under `prefixes` gets Django's HTML 404."""

    def __init__(self, app: ASGIApp, bases: Iterable[str], prefixes: Iterable[str] = ()):
        self.app = app
        bases = list(bases)
        self.canonical = [re.compile(f"^{b}/$") for b in bases]
        self.suffixed = [re.compile(rf"^(?P<base>{b})\.(?P<format>[a-z0-9]+)/?$") for b in bases]
        # Paths outside these prefixes (healthz, metrics, internal) are passed through untouched.
        self.prefixes = tuple(prefixes)

    def resolve(self, path: str):
        """(path to route, format suffix) or None when Django would not match the path."""
        for canonical, suffixed in zip(self.canonical, self.suffixed):
            if canonical.match(path):
                return path, None
            match = suffixed.match(path)
            if match:
                return match.group("base") + "/", match.group("format")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if self.prefixes and not path.startswith(self.prefixes):
            return await self.app(scope, receive, send)
        resolved = self.resolve(path)
        if resolved is not None:
            routed, suffix = resolved
            if routed != path or suffix:
                scope = dict(scope, path=routed, public_path=path, format_suffix=suffix)
            return await self.app(scope, receive, send)
        if not path.endswith("/") and self.resolve(path + "/") is not None:
            location = escape_uri_path(path + "/")
            query = scope.get("query_string", b"")
            if query:
                location += "?" + iri_to_uri(query.decode("latin-1"))
            response = Response(b"", status_code=301, headers={"Location": location},
                                media_type="text/html; charset=utf-8")
        else:
            response = django_error_page(404)
        await response(scope, receive, send)
