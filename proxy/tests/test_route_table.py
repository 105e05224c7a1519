"""Route table validation and comment-preserving edits."""
import pytest

from proxy.routing.file import set_route_mode
from proxy.routing.table import Mode, RouteTableError, load_route_table, parse_route_table
from proxy.settings import ROOT

BASE = """
version: 1
upstreams:
  legacy: {url: "http://127.0.0.1:1"}
  catalog: {url: "${CATALOG_URL_FOR_TEST:-http://127.0.0.1:2}"}
routes:
  - name: catalog-read
    path: ^/api/v1/tracks
    methods: [get]
    mode: legacy
    target: catalog
  - name: default
    path: ^/
"""


def test_shipped_table_routes_everything_to_legacy():
    table = load_route_table(ROOT / "proxy" / "routes.yaml")
    # The catalog routes (issue 5) and search (issue 6) ship in shadow: the monolith still answers
    # every request.
    assert all(route.mode is (Mode.SHADOW if route.name.startswith("catalog-") or route.name == "search"
                              else Mode.LEGACY)
               for route in table.routes)
    assert table.match("GET", "/api/v1/tracks/7/").name == "catalog-read"
    assert table.match("PATCH", "/api/v1/albums/7/").name == "catalog-write"
    assert table.match("GET", "/api/v1/search/?q=x").name == "search"
    assert table.match("GET", "/api/v1/playlists/").name == "default"
    assert table.match("GET", "/api/v1/tracksuits/").name == "default"


def test_env_expansion_and_method_case(monkeypatch):
    monkeypatch.setenv("CATALOG_URL_FOR_TEST", "http://10.0.0.9:8101")
    table = parse_route_table(BASE)
    assert table.upstreams["catalog"].url == "http://10.0.0.9:8101"
    assert table.match("GET", "/api/v1/tracks/").name == "catalog-read"
    assert table.match("POST", "/api/v1/tracks/").name == "default"


@pytest.mark.parametrize("change, message", [
    (("mode: legacy\n    target: catalog", "mode: canary\n    target: catalog"), "percent"),
    (("mode: legacy\n    target: catalog", "mode: new"), "target"),
    (("target: catalog", "target: nowhere"), "nowhere"),
    (("path: ^/api/v1/tracks", "path: ^/api/v1/(tracks"), "regular expression"),
    (("name: default", "name: catalog-read"), "used twice"),
    (("methods: [get]", "methods: [get]\n    compare: nosuch"), "compare profile"),
    (("methods: [get]", "methods: [get]\n    mode_typo: new"), "mode_typo"),
    (("version: 1", "version: [1"), "YAML"),
])
def test_invalid_tables_are_rejected_with_the_reason(change, message):
    with pytest.raises(RouteTableError, match=message):
        parse_route_table(BASE.replace(*change))


def test_flip_keeps_comments_and_layout(tmp_path):
    path = tmp_path / "routes.yaml"
    original = (ROOT / "proxy" / "routes.yaml").read_text()
    path.write_text(original)
    old, new = set_route_mode(path, "catalog-read", "canary", 5)
    assert new.route("catalog-read").spec.percent == 5 and old.route("catalog-read").mode is Mode.SHADOW
    text = path.read_text()
    assert text.count("#") == original.count("#")
    set_route_mode(path, "catalog-read", "shadow")
    assert path.read_text() == original


def test_flip_refuses_invalid_results(tmp_path):
    path = tmp_path / "routes.yaml"
    path.write_text(BASE)
    with pytest.raises(RouteTableError, match="no route named"):
        set_route_mode(path, "nope", "new")
    with pytest.raises(RouteTableError, match="percentage"):
        set_route_mode(path, "catalog-read", "canary")
    with pytest.raises(RouteTableError, match="target"):
        set_route_mode(path, "default", "new")
    assert path.read_text() == BASE
