"""Catalog reads: JSON shapes (a contract the catalog service reproduces), pagination,
filters, ordering and navigation endpoints."""
from datetime import date
from decimal import Decimal

import pytest

from vobemusic.testing import make_album, make_artist, make_genre, make_track

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    rock = make_genre(name="Rock", slug="rock")
    jazz = make_genre(name="Jazz", slug="jazz")
    nova = make_artist(name="Nova Lane", country="SE", image_url="https://cdn.example/nova.jpg")
    otto = make_artist(name="Otto Reyes", country="US")
    old = make_album(nova, title="Old Light", release_date=date(1999, 5, 1))
    new = make_album(nova, title="New Sky", release_date=date(2021, 3, 2))
    tracks = [
        make_track(nova, album=old, genre=rock, title="Amber Road", duration_ms=180_000, popularity=50,
                   tempo=120.0, energy=0.8, valence=0.3, price=Decimal("0.99")),
        make_track(nova, album=new, genre=rock, title="Blue Harbor", duration_ms=240_000, popularity=90,
                   tempo=90.0, energy=0.2, valence=0.9, price=Decimal("1.29")),
        make_track(otto, genre=jazz, title="Midnight Train", duration_ms=300_000, popularity=50,
                   tempo=150.0, energy=0.5, valence=0.5, price=Decimal("0.00")),
    ]
    return {"rock": rock, "jazz": jazz, "nova": nova, "otto": otto, "old": old, "new": new, "tracks": tracks}


def ids(response):
    return [row["id"] for row in response.json()["results"]]


class TestShapes:
    def test_track_detail_shape(self, anon, catalog):
        track = catalog["tracks"][0]
        body = anon.get(f"/api/v1/tracks/{track.pk}/").json()
        assert body == {
            "id": track.pk,
            "title": "Amber Road",
            "artist": {"id": catalog["nova"].pk, "name": "Nova Lane", "country": "SE",
                       "image_url": "https://cdn.example/nova.jpg"},
            "album": {"id": catalog["old"].pk, "title": "Old Light", "release_date": "1999-05-01",
                      "cover_image_url": ""},
            "genre": {"id": catalog["rock"].pk, "name": "Rock", "slug": "rock"},
            "duration_ms": 180000,
            "popularity": 50,
            "tempo": 120.0,
            "energy": 0.8,
            "valence": 0.3,
            "price": "0.99",
            "file_path": "",
            "created_at": body["created_at"],
            "updated_at": body["updated_at"],
        }
        assert body["created_at"].endswith("Z")

    def test_single_without_album_or_genre_has_nulls(self, anon):
        track = make_track(title="Loose")
        body = anon.get(f"/api/v1/tracks/{track.pk}/").json()
        assert body["album"] is None and body["genre"] is None and body["tempo"] is None

    def test_artist_album_genre_shapes(self, anon, catalog):
        artist = anon.get(f"/api/v1/artists/{catalog['nova'].pk}/").json()
        assert set(artist) == {"id", "user", "name", "bio", "country", "image_url", "created_at", "updated_at"}
        assert artist["user"] is None
        album = anon.get(f"/api/v1/albums/{catalog['old'].pk}/").json()
        assert set(album) == {"id", "title", "artist", "release_date", "cover_image_url", "created_at", "updated_at"}
        assert album["artist"]["name"] == "Nova Lane"
        genre = anon.get(f"/api/v1/genres/{catalog['rock'].pk}/").json()
        assert genre == {"id": catalog["rock"].pk, "name": "Rock", "slug": "rock", "description": ""}

    def test_missing_track_is_404(self, anon):
        response = anon.get("/api/v1/tracks/987654/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No Track matches the given query."}

    def test_no_trailing_slash_redirects(self, anon, catalog):
        response = anon.get("/api/v1/tracks")
        assert response.status_code == 301
        assert response["Location"] == "/api/v1/tracks/"

    def test_track_list_is_a_constant_number_of_queries(self, anon, catalog, django_assert_max_num_queries):
        for _ in range(10):
            make_track(catalog["otto"], album=make_album(catalog["otto"]), genre=catalog["jazz"])
        with django_assert_max_num_queries(2):  # count + page
            anon.get("/api/v1/tracks/")


class TestPagination:
    def test_envelope_and_links(self, anon):
        artist = make_artist()
        for _ in range(25):
            make_track(artist)
        first = anon.get("/api/v1/tracks/").json()
        assert first["count"] == 25 and len(first["results"]) == 20
        assert first["next"] == "http://testserver/api/v1/tracks/?page=2" and first["previous"] is None
        second = anon.get(first["next"]).json()
        assert len(second["results"]) == 5 and second["next"] is None
        assert second["previous"] == "http://testserver/api/v1/tracks/"

    def test_page_size_is_capped_at_100(self, anon):
        artist = make_artist()
        for _ in range(3):
            make_track(artist)
        assert len(anon.get("/api/v1/tracks/?page_size=2").json()["results"]) == 2
        assert anon.get("/api/v1/tracks/?page_size=2").json()["next"].endswith("?page=2&page_size=2")
        assert len(anon.get("/api/v1/tracks/?page_size=1000").json()["results"]) == 3

    def test_out_of_range_page_is_404(self, anon):
        make_track()
        response = anon.get("/api/v1/tracks/?page=9")
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid page."}

    def test_forwarded_host_and_proto_shape_links(self, anon, settings):
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "api.vobemusic.example"]
        artist = make_artist()
        for _ in range(21):
            make_track(artist)
        body = anon.get("/api/v1/tracks/", HTTP_X_FORWARDED_HOST="api.vobemusic.example",
                        HTTP_X_FORWARDED_PROTO="https").json()
        assert body["next"] == "https://api.vobemusic.example/api/v1/tracks/?page=2"


class TestTrackFilters:
    @pytest.mark.parametrize("query, expected", [
        ("genre={rock}", [0, 1]),
        ("genre_slug=jazz", [2]),
        ("artist={otto}", [2]),
        ("album={old}", [0]),
        ("year_min=2000", [1]),
        ("year_max=2000", [0]),
        ("duration_min=200000&duration_max=250000", [1]),
        ("popularity_min=60", [1]),
        ("tempo_min=100&tempo_max=130", [0]),
        ("energy_max=0.5", [1, 2]),
        ("valence_min=0.6", [1]),
        ("price_min=0.5&price_max=1.00", [0]),
        ("search=HARBOR", [1]),
    ])
    def test_filters(self, anon, catalog, query, expected):
        query = query.format(rock=catalog["rock"].pk, otto=catalog["otto"].pk, old=catalog["old"].pk)
        response = anon.get(f"/api/v1/tracks/?{query}")
        assert response.status_code == 200
        assert ids(response) == [catalog["tracks"][n].pk for n in expected]

    def test_invalid_filter_value_is_400(self, anon, catalog):
        response = anon.get("/api/v1/tracks/?duration_min=long")
        assert response.status_code == 400
        assert response.json() == {"duration_min": ["Enter a number."]}


class TestOrdering:
    def test_default_is_id(self, anon, catalog):
        assert ids(anon.get("/api/v1/tracks/")) == [t.pk for t in catalog["tracks"]]

    def test_ties_break_on_id_in_the_same_direction(self, anon, catalog):
        a, b, c = (t.pk for t in catalog["tracks"])
        assert ids(anon.get("/api/v1/tracks/?ordering=-popularity")) == [b, c, a]
        assert ids(anon.get("/api/v1/tracks/?ordering=popularity")) == [a, c, b]

    @pytest.mark.parametrize("field", ["duration_ms", "created_at", "title", "price", "id"])
    def test_allowed_fields(self, anon, catalog, field):
        assert anon.get(f"/api/v1/tracks/?ordering=-{field}").status_code == 200

    def test_unknown_field_is_ignored(self, anon, catalog):
        assert ids(anon.get("/api/v1/tracks/?ordering=file_path")) == [t.pk for t in catalog["tracks"]]


class TestNavigation:
    def test_popular(self, anon, catalog):
        a, b, c = (t.pk for t in catalog["tracks"])
        assert ids(anon.get("/api/v1/tracks/popular/")) == [b, c, a]
        assert ids(anon.get(f"/api/v1/tracks/popular/?genre={catalog['rock'].pk}")) == [b, a]

    def test_artist_albums_and_tracks(self, anon, catalog):
        nova = catalog["nova"].pk
        assert ids(anon.get(f"/api/v1/artists/{nova}/albums/")) == [catalog["old"].pk, catalog["new"].pk]
        assert ids(anon.get(f"/api/v1/artists/{nova}/albums/?year_min=2000")) == [catalog["new"].pk]
        tracks = anon.get(f"/api/v1/artists/{nova}/tracks/?ordering=-popularity").json()
        assert tracks["count"] == 2
        assert [r["title"] for r in tracks["results"]] == ["Blue Harbor", "Amber Road"]

    def test_album_tracks_paginated(self, anon, catalog):
        album = catalog["old"]
        for _ in range(21):
            make_track(catalog["nova"], album=album)
        body = anon.get(f"/api/v1/albums/{album.pk}/tracks/").json()
        assert body["count"] == 22 and len(body["results"]) == 20
        assert body["next"] == f"http://testserver/api/v1/albums/{album.pk}/tracks/?page=2"

    def test_navigation_on_missing_artist_is_404(self, anon):
        assert anon.get("/api/v1/artists/424242/tracks/").status_code == 404


class TestOtherFilters:
    def test_artist_filters_and_ordering(self, anon, catalog):
        assert ids(anon.get("/api/v1/artists/?country=se")) == [catalog["nova"].pk]
        assert ids(anon.get("/api/v1/artists/?name=reyes")) == [catalog["otto"].pk]
        assert ids(anon.get("/api/v1/artists/?ordering=-name")) == [catalog["otto"].pk, catalog["nova"].pk]

    def test_album_filters(self, anon, catalog):
        assert ids(anon.get(f"/api/v1/albums/?artist={catalog['otto'].pk}")) == []
        assert ids(anon.get("/api/v1/albums/?year_min=1990&year_max=2000")) == [catalog["old"].pk]
        assert ids(anon.get("/api/v1/albums/?ordering=-release_date")) == [catalog["new"].pk, catalog["old"].pk]

    def test_genres_are_ordered_by_name(self, anon, catalog):
        names = [row["name"] for row in anon.get("/api/v1/genres/").json()["results"]]
        assert names == ["Jazz", "Rock"]
