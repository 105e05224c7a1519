"""Catalog writes: who may create/change what, and validation errors."""
import pytest

from catalog.models import Artist, Genre, Track
from vobemusic.testing import client_for, make_album, make_artist, make_genre, make_track, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_artist(artist_user):
    return make_artist(user=artist_user, name="Own Artist")


def track_body(artist, **overrides):
    return {"title": "New Song", "artist_id": artist.pk, "duration_ms": 200000, "price": "1.29", **overrides}


class TestGenres:
    def test_admin_only(self, anon, user_api, artist_api, admin_api):
        body = {"name": "Shoegaze", "slug": "shoegaze"}
        assert anon.post("/api/v1/genres/", body, format="json").status_code == 401
        assert user_api.post("/api/v1/genres/", body, format="json").status_code == 403
        assert artist_api.post("/api/v1/genres/", body, format="json").status_code == 403
        response = admin_api.post("/api/v1/genres/", body, format="json")
        assert response.status_code == 201
        assert response.json() == {"id": response.json()["id"], "name": "Shoegaze", "slug": "shoegaze", "description": ""}

    def test_duplicate_name(self, admin_api):
        make_genre(name="Rock", slug="rock")
        response = admin_api.post("/api/v1/genres/", {"name": "Rock", "slug": "rock-2"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"name": ["genre with this name already exists."]}

    def test_admin_deletes(self, admin_api):
        genre = make_genre()
        assert admin_api.delete(f"/api/v1/genres/{genre.pk}/").status_code == 204
        assert not Genre.objects.filter(pk=genre.pk).exists()


class TestArtists:
    def test_anonymous_401_with_drf_body(self, anon):
        response = anon.post("/api/v1/artists/", {"name": "X"}, format="json")
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}

    def test_plain_user_403(self, user_api):
        response = user_api.post("/api/v1/artists/", {"name": "X"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "You do not have permission to perform this action."}

    def test_artist_creates_own_profile(self, artist_api, artist_user):
        response = artist_api.post("/api/v1/artists/", {"name": "Me", "country": "se"}, format="json")
        assert response.status_code == 201
        assert response.json()["user"] == artist_user.pk and response.json()["country"] == "SE"

    def test_artist_cannot_link_someone_else(self, artist_api, user):
        response = artist_api.post("/api/v1/artists/", {"name": "Me", "user": user.pk}, format="json")
        assert response.status_code == 400
        assert response.json() == {"user": ["Only admins can link an artist to another user."]}

    def test_admin_links_any_user_or_none(self, admin_api, artist_user):
        assert admin_api.post("/api/v1/artists/", {"name": "A"}, format="json").json()["user"] is None
        linked = admin_api.post("/api/v1/artists/", {"name": "B", "user": artist_user.pk}, format="json").json()
        assert linked["user"] == artist_user.pk

    def test_owner_edits_other_artist_cannot(self, artist_api, own_artist):
        assert artist_api.patch(f"/api/v1/artists/{own_artist.pk}/", {"bio": "New"}, format="json").status_code == 200
        stranger = make_artist(user=make_user(role="artist"))
        response = artist_api.patch(f"/api/v1/artists/{stranger.pk}/", {"bio": "Mine"}, format="json")
        assert response.status_code == 403

    def test_admin_edits_and_deletes_anything(self, admin_api, own_artist):
        assert admin_api.put(f"/api/v1/artists/{own_artist.pk}/", {"name": "Renamed"}, format="json").status_code == 200
        assert admin_api.delete(f"/api/v1/artists/{own_artist.pk}/").status_code == 204
        assert not Artist.objects.filter(pk=own_artist.pk).exists()

    def test_validation(self, admin_api):
        response = admin_api.post("/api/v1/artists/", {"name": "", "country": "Sweden", "image_url": "nope"}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "name": ["This field may not be blank."],
            "country": ["Ensure this field has no more than 2 characters."],
            "image_url": ["Enter a valid URL."],
        }


class TestAlbumsAndTracks:
    def test_artist_publishes_album_and_track(self, artist_api, own_artist):
        album = artist_api.post("/api/v1/albums/", {"title": "LP", "artist_id": own_artist.pk,
                                                    "release_date": "2024-02-03"}, format="json")
        assert album.status_code == 201
        assert album.json()["artist"]["id"] == own_artist.pk
        track = artist_api.post("/api/v1/tracks/", track_body(own_artist, album_id=album.json()["id"]), format="json")
        assert track.status_code == 201
        assert track.json()["album"]["title"] == "LP" and track.json()["price"] == "1.29"
        assert "artist_id" not in track.json()

    def test_artist_cannot_publish_for_another_artist(self, artist_api):
        stranger = make_artist()
        response = artist_api.post("/api/v1/tracks/", track_body(stranger), format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "You can only publish music for your own artist profile."}

    def test_owner_edits_own_track_not_others(self, artist_api, own_artist):
        mine, theirs = make_track(own_artist), make_track(make_artist())
        assert artist_api.patch(f"/api/v1/tracks/{mine.pk}/", {"popularity": 77}, format="json").status_code == 200
        assert artist_api.patch(f"/api/v1/tracks/{theirs.pk}/", {"popularity": 77}, format="json").status_code == 403
        assert artist_api.delete(f"/api/v1/tracks/{mine.pk}/").status_code == 204

    def test_owner_cannot_move_track_to_another_artist(self, artist_api, own_artist):
        mine = make_track(own_artist)
        response = artist_api.patch(f"/api/v1/tracks/{mine.pk}/", {"artist_id": make_artist().pk}, format="json")
        assert response.status_code == 403

    def test_album_must_belong_to_the_tracks_artist(self, admin_api):
        response = admin_api.post("/api/v1/tracks/", track_body(make_artist(), album_id=make_album().pk), format="json")
        assert response.status_code == 400
        assert response.json() == {"album_id": ["This album belongs to a different artist."]}

    def test_track_validation_errors(self, admin_api):
        artist = make_artist()
        response = admin_api.post("/api/v1/tracks/", track_body(
            artist, duration_ms=-5, popularity=101, energy=2, price="1.234", genre_id=99999), format="json")
        assert response.status_code == 400
        assert response.json() == {
            "genre_id": ['Invalid pk "99999" - object does not exist.'],
            "duration_ms": ["Ensure this value is greater than or equal to 1000."],
            "popularity": ["Ensure this value is less than or equal to 100."],
            "energy": ["Ensure this value is less than or equal to 1."],
            "price": ["Ensure that there are no more than 2 decimal places."],
        }

    def test_required_fields(self, admin_api):
        response = admin_api.post("/api/v1/tracks/", {}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "title": ["This field is required."],
            "artist_id": ["This field is required."],
            "duration_ms": ["This field is required."],
        }

    def test_admin_full_update(self, admin_api):
        track = make_track()
        body = track_body(track.artist, title="Replaced", genre_id=make_genre().pk)
        response = admin_api.put(f"/api/v1/tracks/{track.pk}/", body, format="json")
        assert response.status_code == 200
        assert Track.objects.get(pk=track.pk).title == "Replaced"

    def test_malformed_json(self, admin_api):
        response = admin_api.generic("POST", "/api/v1/tracks/", "{bad json", content_type="application/json")
        assert response.status_code == 400
        assert response.json()["detail"].startswith("JSON parse error - ")

    def test_plain_user_cannot_create_tracks(self, user_api):
        assert user_api.post("/api/v1/tracks/", track_body(make_artist()), format="json").status_code == 403

    def test_session_auth_also_works(self, own_artist, artist_user):
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_login(artist_user)
        assert client.patch(f"/api/v1/artists/{own_artist.pk}/", {"bio": "x"}, format="json").status_code == 200

    def test_other_clients_are_independent(self, own_artist):
        stranger = client_for(make_user(role="artist"))
        assert stranger.delete(f"/api/v1/artists/{own_artist.pk}/").status_code == 403
