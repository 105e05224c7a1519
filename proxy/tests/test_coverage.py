"""`cli coverage` against the real monolith URLconf and the real route table."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from proxy.routing.coverage import concrete_path, monolith_coverage
from proxy.routing.table import load_route_table, parse_route_table
from proxy.settings import ROOT

ROUTES = ROOT / "proxy" / "routes.yaml"


@pytest.fixture(scope="module")
def coverage():
    return monolith_coverage(load_route_table(ROUTES))


def endpoint(coverage, method: str, path: str):
    return next(e for e in coverage.endpoints if e.method == method and e.path == path)


def methods(coverage, path: str) -> list[str]:
    return [e.method for e in coverage.endpoints if e.path == path]


def test_totals_are_consistent(coverage):
    data = coverage.to_dict()
    total = data["totals"]["endpoints"]
    assert total == len(data["endpoints"]) == sum(data["totals"]["by_mode"].values())
    assert total == sum(kind["endpoints"] for kind in data["totals"]["by_kind"].values())
    legacy = sum(1 for e in coverage.endpoints if e.mode == "legacy")
    assert data["summary"] == f"{legacy} of {total} endpoints still legacy"
    assert len({(e.method, e.pattern) for e in coverage.endpoints}) == total  # each endpoint once


def test_catalog_routes_cover_the_catalog(coverage):
    listing = endpoint(coverage, "GET", "/api/v1/tracks/")
    assert (listing.route, listing.mode, listing.target) == ("catalog-read", "shadow", "catalog")
    assert listing.view == "catalog.views.TrackViewSet" and listing.kind == "api"
    assert endpoint(coverage, "POST", "/api/v1/tracks/").route == "catalog-write"
    assert endpoint(coverage, "DELETE", "/api/v1/tracks/1/").route == "catalog-write"
    # OPTIONS is not routed to the catalog service (routes.yaml): DRF's metadata stays on legacy
    assert endpoint(coverage, "OPTIONS", "/api/v1/tracks/").route == "default"


def test_methods_come_from_the_views(coverage):
    assert methods(coverage, "/api/v1/tracks/") == ["GET", "HEAD", "POST", "OPTIONS"]  # router list route
    assert methods(coverage, "/api/v1/tracks/1/") == ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]
    assert methods(coverage, "/api/v1/tracks/popular/") == ["GET", "HEAD", "OPTIONS"]  # @action(detail=False)
    assert methods(coverage, "/api/v1/playlists/1/reorder/") == ["POST", "OPTIONS"]  # @action(methods=["post"])
    assert methods(coverage, "/api/v1/users/") == ["GET", "HEAD", "OPTIONS"]  # a read-only viewset
    assert methods(coverage, "/api/v1/auth/me/") == ["GET", "HEAD", "PATCH", "OPTIONS"]  # an APIView's handlers
    health = [e for e in coverage.endpoints if e.path == "/healthz"]
    assert [e.method for e in health] == ["GET", "HEAD", "POST"] and not health[0].methods_declared


def test_shadowed_and_format_suffix_patterns_are_folded(coverage):
    assert methods(coverage, "/api/v1/") == ["GET", "HEAD", "OPTIONS"]  # one API root, not one per app
    assert not any("format" in e.pattern for e in coverage.endpoints)
    assert any("format suffix" in w and "catalog-read" in w for w in coverage.warnings)


def test_uncovered_patterns_and_unused_routes_are_warned(tmp_path):
    text = ROUTES.read_text().replace("  - name: default\n", (
        "  - name: ghost\n    path: ^/api/v1/nothing-here(/|$)\n    mode: legacy\n\n  - name: default\n"))
    coverage = monolith_coverage(parse_route_table(text, "routes.yaml"))
    assert any(w.startswith("route ghost (") and "matches no endpoint" in w for w in coverage.warnings)
    assert any("falls to default" in w and "api/v1/^playlists/$" in w for w in coverage.warnings)
    assert not any("route default" in w or "route catalog-read (" in w for w in coverage.warnings)


def test_concrete_paths():
    assert concrete_path("api/v1/^tracks/(?P<pk>[^/.]+)/$") == "/api/v1/tracks/1/"
    assert concrete_path("api/v1/analytics/user/<int:user_id>/") == "/api/v1/analytics/user/1/"
    assert concrete_path(r"api/v1/^posts/(?P<post_pk>\d+)/comments/$") == "/api/v1/posts/1/comments/"


def test_cli_json_and_text():
    run = subprocess.run([sys.executable, "-m", "proxy.cli", "coverage", "--json"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    data = json.loads(run.stdout)
    assert data["totals"]["endpoints"] == len(data["endpoints"]) > 100
    assert {"method": "GET", "path": "/api/v1/tracks/", "route": "catalog-read"}.items() <= next(
        e for e in data["endpoints"] if e["method"] == "GET" and e["path"] == "/api/v1/tracks/").items()
    text = subprocess.run([sys.executable, "-m", "proxy.cli", "coverage"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True).stdout
    assert data["summary"] in text and "warnings (" in text
