"""Absolute URLs built the way Django builds them behind the routing proxy.

The monolith runs with USE_X_FORWARDED_HOST=True and SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO",
"https"), and validates the host against ALLOWED_HOSTS on every request (CommonMiddleware calls
get_host()). Pagination links therefore use X-Forwarded-Host verbatim when present, the scheme is https
only when the first X-Forwarded-Proto value is exactly "https", and a disallowed host is a 400 page."""
from __future__ import annotations

import re
from typing import Iterable, Optional

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.django_urls import django_error_page, escape_uri_path, iri_to_uri

# django.http.request.host_validation_re
_HOST_RE = re.compile(r"([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::([0-9]+))?")


def _header(scope: Scope, name: bytes) -> Optional[str]:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def raw_host(scope: Scope) -> str:
    """Django's _get_raw_host: X-Forwarded-Host, else Host, else the server address."""
    host = _header(scope, b"x-forwarded-host")
    if host is None:
        host = _header(scope, b"host")
    if host is None:
        server = scope.get("server") or ("localhost", 80)
        host = server[0] if server[1] in (80, 443) else f"{server[0]}:{server[1]}"
    return host


def scheme(scope: Scope) -> str:
    proto = _header(scope, b"x-forwarded-proto")
    if proto is not None:
        return "https" if proto.split(",", 1)[0].strip() == "https" else "http"
    return scope.get("scheme", "http")


def split_domain_port(host: str) -> tuple[str, str]:
    """django.utils.http.split_domain_port (Django 5.2)."""
    match = _HOST_RE.fullmatch(host.lower())
    if not match:
        return "", ""
    domain, port = match.groups(default="")
    return domain.removesuffix("."), port


def is_same_domain(host: str, pattern: str) -> bool:
    if not pattern:
        return False
    pattern = pattern.lower()
    return pattern[0] == "." and (host.endswith(pattern) or host == pattern[1:]) or pattern == host


def host_allowed(host: str, allowed_hosts: Iterable[str]) -> bool:
    domain, _port = split_domain_port(host)
    return bool(domain) and any(p == "*" or is_same_domain(domain, p) for p in allowed_hosts)


def absolute_uri(request: Request) -> str:
    """request.build_absolute_uri() of the current request: scheme://host + escaped path + raw query."""
    scope = request.scope
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope.get("public_path") or scope["path"]  # the client's path, before format-suffix routing
    location = escape_uri_path(scope.get("root_path", "") + path)
    if query:
        location += "?" + iri_to_uri(query)
    return f"{scheme(scope)}://{raw_host(scope)}{location}"


class AllowedHosts:
    """ASGI middleware: Django's ALLOWED_HOSTS check (a 400 HTML page for any other host)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str], exempt_prefixes: Iterable[str] = ()):
        self.app = app
        self.allowed_hosts = list(allowed_hosts)
        # Probes (/healthz, /metrics) are called by address, not by public host name.
        self.exempt = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt) or host_allowed(
            raw_host(scope), self.allowed_hosts
        ):
            return await self.app(scope, receive, send)
        await django_error_page(400)(scope, receive, send)
