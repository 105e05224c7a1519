"""Migration coverage: every endpoint of the monolith (URL pattern x method), read from Django's
URL resolver, with the route of the route table that covers it (`python -m proxy.cli coverage`).

Methods come from the view: a DRF viewset route has the actions its router bound (list: GET/POST,
detail: GET/PUT/PATCH/DELETE, @action: its methods); an APIView or Django class-based view the
handlers it implements among `http_method_names`. HEAD follows GET and OPTIONS is listed where the
view answers it (every DRF view does, with its metadata), as the monolith really answers them. A
plain function view declares no methods: GET, HEAD and POST are assumed and marked so.

Each endpoint is matched with RouteTable.match on a concrete path built from its pattern
(`<int:pk>` and `(?P<pk>[^/.]+)` become 1), checked to resolve back to the same view. Patterns an
earlier pattern shadows (DefaultRouter's API root, registered once per app) are left out, and the
format-suffix twins (`tracks.json`) are folded into their base pattern, with a warning where the
proxy routes the twin elsewhere.

Django is imported here only, when the command runs: the proxy itself does not depend on it."""
from __future__ import annotations

import os
import re
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from proxy.routing.table import Mode, Route, RouteTable

DEFAULT_DJANGO_SETTINGS = "vobemusic.settings.dev"
ASSUMED_METHODS = ("GET", "HEAD", "POST")  # a plain function view answers whatever it is sent
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>(?:[^()\\]|\\.|\((?!\?P<)[^()]*\))*)\)")
_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass
class Endpoint:
    method: str
    pattern: str  # Django's pattern, prefixes joined: `api/v1/^tracks/(?P<pk>[^/.]+)/$`
    path: str  # the concrete path matched: `/api/v1/tracks/1/`
    view: str
    kind: str  # api | admin | other
    route: str
    mode: str
    target: Optional[str]
    methods_declared: bool = True
    format_suffix_route: Optional[str] = None  # where the format-suffix twin goes, when that differs
    format_suffix_path: Optional[str] = None


@dataclass
class Coverage:
    routes_file: str
    urlconf: str
    endpoints: list[Endpoint] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    catch_all: Optional[str] = None

    def totals(self, kind: Optional[str] = None) -> dict[str, int]:
        counts = Counter(e.mode for e in self.endpoints if kind is None or e.kind == kind)
        return {mode.value: counts.get(mode.value, 0) for mode in Mode}

    def to_dict(self) -> dict:
        total = len(self.endpoints)
        return {
            "routes_file": self.routes_file, "urlconf": self.urlconf, "catch_all_route": self.catch_all,
            "endpoints": [asdict(e) for e in self.endpoints],
            "patterns": len({e.pattern for e in self.endpoints}),
            "totals": {"endpoints": total, "by_mode": self.totals(),
                       "by_kind": {kind: {"endpoints": sum(1 for e in self.endpoints if e.kind == kind),
                                          "by_mode": self.totals(kind)} for kind in ("api", "admin", "other")}},
            "summary": self.summary(),
            "warnings": self.warnings,
        }

    def summary(self, kind: Optional[str] = None) -> str:
        endpoints = [e for e in self.endpoints if kind is None or e.kind == kind]
        legacy = sum(1 for e in endpoints if e.mode == Mode.LEGACY.value)
        return f"{legacy} of {len(endpoints)} endpoints still legacy"


def setup_django(settings_module: Optional[str] = None, root: Optional[Path] = None) -> str:
    """Django configured for the monolith (legacy_monolith/ on sys.path); returns the settings used."""
    from proxy.settings import ROOT

    monolith = str((root or ROOT) / "legacy_monolith")
    if monolith not in sys.path:
        sys.path.insert(0, monolith)
    module = settings_module or os.environ.get("DJANGO_SETTINGS_MODULE") or DEFAULT_DJANGO_SETTINGS
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    import django

    django.setup()
    return module


def monolith_coverage(table: RouteTable, settings_module: Optional[str] = None) -> Coverage:
    setup_django(settings_module)
    from django.conf import settings
    from django.urls import Resolver404, get_resolver, resolve

    resolver = get_resolver()
    coverage = Coverage(table.source, settings.ROOT_URLCONF)
    catch_all = _catch_all(table)
    coverage.catch_all = catch_all.name if catch_all else None
    patterns = list(_walk(resolver.url_patterns))
    suffix_twins = {}
    for pattern, callback in patterns:
        if "format" in _names(pattern):
            suffix_twins.setdefault(id(callback), pattern)
    shadowed = 0
    for pattern, callback in patterns:
        if "format" in _names(pattern):
            continue
        path = concrete_path(pattern)
        try:
            match = resolve(path)
        except Resolver404:
            coverage.warnings.append(f"{pattern}: no concrete path found for it (tried {path})")
            continue
        if match.func is not callback:  # an earlier pattern answers this path
            shadowed += 1
            continue
        methods, declared = view_methods(callback)
        twin = suffix_twins.get(id(callback))
        twin_path = concrete_path(twin) if twin else None
        for method in methods:
            route = table.match(method, path)
            endpoint = Endpoint(method, pattern, path, _view_name(callback), _kind(path), route.name,
                                route.mode.value, route.spec.target if route.mode is not Mode.LEGACY else None,
                                declared)
            if twin_path:
                twin_route = table.match(method, twin_path)
                if twin_route.name != route.name:
                    endpoint.format_suffix_route, endpoint.format_suffix_path = twin_route.name, twin_path
            coverage.endpoints.append(endpoint)
    _warn(coverage, table, catch_all)
    return coverage


def _walk(patterns, prefix: str = ""):
    from django.urls import URLPattern, URLResolver

    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _names(pattern: str) -> set[str]:
    return {m.group("name") for m in _GROUP.finditer(pattern)} | {m.group("name") for m in _CONVERTER.finditer(pattern)}


def concrete_path(pattern: str) -> str:
    """A path the pattern matches: each parameter becomes 1 (an id, and a valid slug or string),
    regex anchors and optional slashes resolved."""
    text = _GROUP.sub(lambda m: "json" if m.group("name") == "format" else "1", pattern)
    text = _CONVERTER.sub(lambda m: "json" if m.group("converter") == "drf_format_suffix" else (
        "00000000-0000-0000-0000-000000000001" if m.group("converter") == "uuid" else "1"), text)
    text = text.replace("^", "").replace("$", "").replace(r"\Z", "").replace("/?", "").replace(r"\.", ".")
    return "/" + text


def view_methods(callback) -> tuple[list[str], bool]:
    """(upper-case methods the view answers, whether the view declares them)."""
    actions = getattr(callback, "actions", None)  # a DRF viewset bound by a router
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if actions:
        methods = {m.upper() for m in actions}
        if view_class is not None and hasattr(view_class, "options"):
            methods.add("OPTIONS")
    elif view_class is not None:
        methods = {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
    else:
        return list(ASSUMED_METHODS), False
    if "GET" in methods:
        methods.add("HEAD")  # Django's View.setup and DRF's viewsets answer HEAD with the GET handler
    order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
    return sorted(methods, key=lambda m: order.index(m) if m in order else len(order)), True


def _view_name(callback) -> str:
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    target = view_class or callback
    return f"{target.__module__}.{target.__qualname__}"


def _kind(path: str) -> str:
    if path.startswith("/api/v1/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "other"


def _catch_all(table: RouteTable) -> Optional[Route]:
    """The route everything falls to: no method list, and its path matches any path."""
    for route in table.routes:
        if route.methods is None and route.regex.match("/") and route.regex.match("/\x00-no-such-path"):
            return route
    return None


def _warn(coverage: Coverage, table: RouteTable, catch_all: Optional[Route]) -> None:
    fallen = {catch_all.name if catch_all else None, table.unmatched.name}
    uncovered: dict[str, list[str]] = defaultdict(list)
    admin_uncovered = 0
    for endpoint in coverage.endpoints:
        if endpoint.route in fallen:
            if endpoint.kind == "admin":
                admin_uncovered += 1
            else:
                uncovered[endpoint.pattern].append(endpoint.method)
    for pattern, methods in uncovered.items():
        coverage.warnings.append(f"not covered by any route (falls to {catch_all.name if catch_all else 'legacy'}): "
                                 f"{' '.join(methods)} {pattern}")
    if admin_uncovered:
        coverage.warnings.append(f"not covered by any route: {admin_uncovered} endpoints of Django's admin (admin/)")
    twins: dict[tuple[str, str], list[Endpoint]] = defaultdict(list)
    for endpoint in coverage.endpoints:
        if endpoint.format_suffix_route:
            twins[(endpoint.route, endpoint.format_suffix_route)].append(endpoint)
    for (route, twin_route), endpoints in twins.items():
        coverage.warnings.append(f"{len(endpoints)} endpoints of route {route} go to {twin_route} with a format "
                                 f"suffix (e.g. {endpoints[0].method} {endpoints[0].format_suffix_path}): the "
                                 f"route's path does not match it")
    used = {e.route for e in coverage.endpoints}
    for route in table.routes:
        if route is not catch_all and route.name not in used:
            coverage.warnings.append(f"route {route.name} ({route.spec.path}"
                                     f"{' ' + ','.join(route.spec.methods) if route.spec.methods else ''}) "
                                     f"matches no endpoint of the monolith")


def render_text(coverage: Coverage, show_admin: bool = False) -> str:
    lines = [f"monolith endpoints ({coverage.urlconf}) against {coverage.routes_file}", ""]
    header = f"{'METHOD':<8} {'PATH':<48} {'ROUTE':<14} {'MODE':<8} TARGET"
    lines.append(header)
    admin: Counter = Counter()
    for e in coverage.endpoints:
        if e.kind == "admin" and not show_admin:
            admin[(e.route, e.mode)] += 1
            continue
        note = "" if e.methods_declared else "  (methods assumed: plain function view)"
        lines.append(f"{e.method:<8} {e.path:<48} {e.route:<14} {e.mode:<8} {e.target or '-'}{note}")
    for (route, mode), count in admin.items():
        lines.append(f"{'*':<8} {'/admin/... (' + str(count) + ' endpoints, --admin lists them)':<48} "
                     f"{route:<14} {mode:<8} -")
    lines.append("")
    for kind, label in ((None, "all"), ("api", "api/v1"), ("admin", "admin"), ("other", "other")):
        totals = {mode: n for mode, n in coverage.totals(kind).items() if n}
        lines.append(f"{label + ':':<8} {coverage.summary(kind)}; "
                     + ", ".join(f"{mode} {n}" for mode, n in totals.items()))
    if coverage.warnings:
        lines += ["", f"warnings ({len(coverage.warnings)}):"] + [f"  {w}" for w in coverage.warnings]
    return "\n".join(lines)
