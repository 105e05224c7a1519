"""The legacy search endpoints: matching, filters, pagination and q validation."""
from datetime import date

import pytest

from content.models import Post
from vobemusic.testing import make_album, make_artist, make_genre, make_track, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    rock = make_genre(name="Rock", slug="rock")
    moon = make_artist(name="Moon Riders")
    sun = make_artist(name="Sun Kings")
    album = make_album(moon, title="Moonlight Drive", release_date=date(2001, 1, 1))
    tracks = {
        "moon_river": make_track(sun, title="Moon River", popularity=10, duration_ms=150_000),
        "harbor": make_track(moon, album=album, genre=rock, title="Harbor", popularity=80, duration_ms=250_000),
        "sunrise": make_track(sun, title="Sunrise", popularity=40),
    }
    author = make_user(username="writer")
    Post.objects.create(author=author, title="Why the moon matters", body="...", is_published=True)
    Post.objects.create(author=author, title="Draft about the moon", body="...", is_published=False)
    return {"rock": rock, "moon": moon, "sun": sun, "album": album, **tracks}


def ids(response):
    return [row["id"] for row in response.json()["results"]]


class TestQueryValidation:
    @pytest.mark.parametrize("path", ["/api/v1/search/", "/api/v1/search/tracks/", "/api/v1/search/artists/",
                                      "/api/v1/search/albums/", "/api/v1/search/posts/", "/api/v1/search/suggest/"])
    def test_missing_blank_too_long(self, anon, path):
        assert anon.get(path).json() == {"q": ["This field is required."]}
        response = anon.get(f"{path}?q=%20%20")
        assert response.status_code == 400
        assert response.json() == {"q": ["This field may not be blank."]}
        response = anon.get(f"{path}?q={'x' * 101}")
        assert response.status_code == 400
        assert response.json() == {"q": ["Ensure this field has no more than 100 characters."]}


class TestTypedSearch:
    def test_tracks_match_title_or_artist_most_popular_first(self, anon, world):
        response = anon.get("/api/v1/search/tracks/?q=moon")
        assert ids(response) == [world["harbor"].pk, world["moon_river"].pk]
        assert response.json()["results"][0]["artist"]["name"] == "Moon Riders"

    @pytest.mark.parametrize("query, expected", [
        ("genre={rock}", ["harbor"]),
        ("artist={sun}", ["moon_river"]),
        ("year_min=2000&year_max=2005", ["harbor"]),
        ("duration_max=200000", ["moon_river"]),
        ("duration_min=200000", ["harbor"]),
    ])
    def test_track_filters(self, anon, world, query, expected):
        query = query.format(rock=world["rock"].pk, sun=world["sun"].pk)
        assert ids(anon.get(f"/api/v1/search/tracks/?q=moon&{query}")) == [world[k].pk for k in expected]

    def test_artists_albums_posts(self, anon, world):
        assert ids(anon.get("/api/v1/search/artists/?q=KINGS")) == [world["sun"].pk]
        assert ids(anon.get("/api/v1/search/albums/?q=light")) == [world["album"].pk]
        posts = anon.get("/api/v1/search/posts/?q=moon").json()
        assert posts["count"] == 1  # drafts are never found
        assert set(posts["results"][0]) == {"id", "title", "excerpt", "author", "published_at"}
        assert posts["results"][0]["author"]["username"] == "writer"

    def test_pagination(self, anon):
        artist = make_artist(name="Echo")
        for n in range(25):
            make_track(artist, title=f"Echo {n}")
        body = anon.get("/api/v1/search/tracks/?q=echo&page_size=10").json()
        assert body["count"] == 25 and len(body["results"]) == 10
        assert body["next"] == "http://testserver/api/v1/search/tracks/?page=2&page_size=10&q=echo"
        assert anon.get("/api/v1/search/tracks/?q=echo&page=99").status_code == 404


class TestMixedAndSuggest:
    def test_mixed_results_by_type(self, anon, world):
        body = anon.get("/api/v1/search/?q=moon").json()
        assert body["query"] == "moon"
        assert body["tracks"]["count"] == 2 and body["artists"]["count"] == 1
        assert body["albums"]["count"] == 1 and body["posts"]["count"] == 1
        assert body["artists"]["results"][0]["name"] == "Moon Riders"

    def test_suggest_prefix(self, anon, world):
        body = anon.get("/api/v1/search/suggest/?q=moo").json()
        assert body == {"query": "moo", "suggestions": [
            {"type": "artist", "id": world["moon"].pk, "text": "Moon Riders"},
            {"type": "track", "id": world["moon_river"].pk, "text": "Moon River"},
            {"type": "album", "id": world["album"].pk, "text": "Moonlight Drive"},
        ]}

    def test_suggest_limit(self, anon, world):
        assert len(anon.get("/api/v1/search/suggest/?q=moo&limit=2").json()["suggestions"]) == 2
        response = anon.get("/api/v1/search/suggest/?q=moo&limit=50")
        assert response.status_code == 400
        assert response.json() == {"limit": ["Ensure this value is less than or equal to 20."]}
