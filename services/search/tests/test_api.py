"""The HTTP endpoints answer under the monolith's paths, in its shapes, with its errors."""
from __future__ import annotations

import pytest


def test_track_search_page_is_the_drf_envelope(client):
    body = client.get("/api/v1/search/tracks/", params={"q": "radiohead", "page_size": 2}).json()
    assert body["count"] == 4
    assert body["previous"] is None
    assert body["next"] == "http://testserver/api/v1/search/tracks/?page=2&page_size=2&q=radiohead"
    assert [t["artist"]["name"] for t in body["results"]] == ["Radiohead", "Radiohead"]
    page2 = client.get(body["next"]).json()
    assert page2["previous"] == "http://testserver/api/v1/search/tracks/?page_size=2&q=radiohead"
    assert not {t["id"] for t in body["results"]} & {t["id"] for t in page2["results"]}


def test_links_honour_the_forwarded_host_and_proto(client):
    body = client.get("/api/v1/search/tracks/?q=radiohead&page_size=1",
                      headers={"X-Forwarded-Host": "localhost", "X-Forwarded-Proto": "https"}).json()
    assert body["next"].startswith("https://localhost/api/v1/search/tracks/?")


def test_typo_tolerant_and_ranked(client):
    titles = [t["title"] for t in client.get("/api/v1/search/tracks/?q=paranoid androd").json()["results"]]
    assert titles == ["Paranoid Android"]
    ranked = [t["title"] for t in client.get("/api/v1/search/tracks/?q=love").json()["results"]]
    assert ranked[0] == "All Is Full of Love" or ranked[0] == "Love You Like a Love Song"


def test_track_filters(client):
    get = lambda **params: [t["id"] for t in client.get("/api/v1/search/tracks/", params={"q": "radiohead", **params}).json()["results"]]  # noqa: E731
    assert sorted(get(year_min=1999)) == [6]
    assert sorted(get(year_max=1997)) == [4, 5, 9]
    assert sorted(get(duration_min=300000)) == [4]
    assert sorted(get(genre=1)) == []
    assert sorted(get(genre_slug="rock", artist=2)) == [4, 5, 6, 9]
    assert sorted(get(genre="2.9")) == [4, 5, 6, 9]  # Django truncates like int()
    assert get(genre="") == get()                      # an empty filter does not filter


def test_other_kinds(client):
    assert [a["name"] for a in client.get("/api/v1/search/artists/?q=bjork").json()["results"]] == ["Björk"]
    assert [a["title"] for a in client.get("/api/v1/search/albums/?q=computer").json()["results"]] == ["OK Computer"]
    posts = client.get("/api/v1/search/posts/?q=radiohead").json()["results"]
    assert [p["title"] for p in posts] == ["Kid A at twenty-five"]  # the draft is not searchable
    assert set(posts[0]) == {"id", "title", "excerpt", "author", "published_at"}


def test_mixed_search(client):
    body = client.get("/api/v1/search/?q=teardrop").json()
    assert body["query"] == "teardrop"
    assert body["tracks"]["count"] == 1 and body["tracks"]["results"][0]["title"] == "Teardrop"
    assert body["posts"]["count"] == 1
    assert body["artists"] == {"count": 0, "results": []}
    assert list(body) == ["query", "tracks", "artists", "albums", "posts"]


def test_suggest(client):
    body = client.get("/api/v1/search/suggest/?q=ra").json()
    assert body["query"] == "ra"
    assert body["suggestions"][0] == {"type": "artist", "id": 2, "text": "Radiohead"}
    assert [s["text"] for s in client.get("/api/v1/search/suggest/?q=k&limit=2").json()["suggestions"]] == ["Karma Police", "Kid A"]
    assert client.get("/api/v1/search/suggest/?q=teardorp").json()["suggestions"] == [
        {"type": "track", "id": 7, "text": "Teardrop"}]


@pytest.mark.parametrize("url, errors", [
    ("/api/v1/search/tracks/", {"q": ["This field is required."]}),
    ("/api/v1/search/tracks/?q=", {"q": ["This field may not be blank."]}),
    ("/api/v1/search/tracks/?q=%20%20", {"q": ["This field may not be blank."]}),
    ("/api/v1/search/artists/?q=" + "a" * 101, {"q": ["Ensure this field has no more than 100 characters."]}),
    ("/api/v1/search/?q=a%00b", {"q": ["Null characters are not allowed."]}),
    ("/api/v1/search/tracks/?q=x&year_min=abc&genre=1e", {"year_min": ["Enter a number."], "genre": ["Enter a number."]}),
    ("/api/v1/search/suggest/?q=x&limit=0", {"limit": ["Ensure this value is greater than or equal to 1."]}),
    ("/api/v1/search/suggest/?q=x&limit=21", {"limit": ["Ensure this value is less than or equal to 20."]}),
    ("/api/v1/search/suggest/?limit=x", {"q": ["This field is required."], "limit": ["A valid integer is required."]}),
])
def test_malformed_queries_get_drf_400s(client, url, errors):
    response = client.get(url)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == errors


def test_query_errors_come_before_filter_errors(client):
    assert client.get("/api/v1/search/tracks/?year_min=abc").json() == {"q": ["This field is required."]}


@pytest.mark.parametrize("page", ["0", "abc", "99"])
def test_invalid_pages_are_404_like_drf(client, page):
    response = client.get(f"/api/v1/search/tracks/?q=radiohead&page={page}")
    assert response.status_code == 404 and response.json() == {"detail": "Invalid page."}


def test_last_page_and_empty_results(client):
    last = client.get("/api/v1/search/tracks/?q=radiohead&page_size=3&page=last").json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert client.get("/api/v1/search/tracks/?q=!!!").json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_trailing_slash_and_probes(client):
    redirect = client.get("/api/v1/search/tracks?q=x", follow_redirects=False)
    assert redirect.status_code == 301 and redirect.headers["location"] == "/api/v1/search/tracks/?q=x"
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["index"] == "ok"
    assert client.get("/metrics").status_code == 200


def test_the_index_survives_a_restart(loaded, settings):
    from fastapi.testclient import TestClient

    from services.search.app import build_app
    from services.search.tantivy_backend import TantivyBackend

    if loaded.backend.name != "tantivy":
        pytest.skip("persistence of an external cluster is not the service's concern")
    loaded.backend.close()
    reopened = TantivyBackend(loaded.backend.root)
    with TestClient(build_app(settings, backend=reopened, replica=loaded.replica)) as client:
        assert client.get("/api/v1/search/tracks/?q=teardrop").json()["count"] == 1
