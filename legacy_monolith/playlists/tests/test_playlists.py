"""Playlists themselves: visibility of private ones, CRUD by the owner, filters, pagination."""
import pytest

from playlists.models import Playlist
from playlists.tests.factories import make_playlist
from vobemusic.testing import make_track

pytestmark = pytest.mark.django_db

PLAYLISTS = "/api/v1/playlists/"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


class TestRead:
    def test_shape(self, anon, user):
        playlist = make_playlist(user, tracks=2, description="Summer")
        row = anon.get(PLAYLISTS).json()["results"][0]
        assert set(row) == {
            "id", "owner", "title", "description", "is_public", "track_count", "created_at", "updated_at",
        }
        assert row["id"] == playlist.pk and row["owner"]["id"] == user.pk
        assert row["track_count"] == 2 and row["description"] == "Summer"

    def test_private_visible_only_to_owner_and_admin(self, anon, user_api, other_api, admin_api, user):
        public = make_playlist(user)
        private = make_playlist(user, is_public=False)
        assert ids(anon.get(PLAYLISTS)) == [public.pk]
        assert ids(other_api.get(PLAYLISTS)) == [public.pk]
        assert ids(user_api.get(PLAYLISTS)) == [public.pk, private.pk]
        assert ids(admin_api.get(PLAYLISTS)) == [public.pk, private.pk]

    def test_private_is_404_not_403_for_others(self, anon, other_api, user):
        private = make_playlist(user, is_public=False)
        for client in (anon, other_api):
            response = client.get(f"{PLAYLISTS}{private.pk}/")
            assert response.status_code == 404
            assert response.json() == {"detail": "No Playlist matches the given query."}
        assert other_api.delete(f"{PLAYLISTS}{private.pk}/").status_code == 404
        assert other_api.get(f"{PLAYLISTS}{private.pk}/tracks/").status_code == 404

    def test_filters_search_and_ordering(self, anon, user, other_user):
        track = make_track()
        jazz = make_playlist(user, title="Late jazz")
        rock = make_playlist(other_user, title="Rock")
        jazz.add_track(track)
        jazz.add_track(track)  # twice: must not duplicate the row or the count
        assert ids(anon.get(PLAYLISTS, {"owner": user.pk})) == [jazz.pk]
        assert ids(anon.get(PLAYLISTS, {"search": "JAZZ"})) == [jazz.pk]
        response = anon.get(PLAYLISTS, {"track": track.pk})
        assert ids(response) == [jazz.pk] and response.json()["results"][0]["track_count"] == 2
        assert ids(anon.get(PLAYLISTS, {"ordering": "-title"})) == [rock.pk, jazz.pk]

    def test_is_public_filter(self, user_api, user):
        private = make_playlist(user, is_public=False)
        make_playlist(user)
        assert ids(user_api.get(PLAYLISTS, {"is_public": "false"})) == [private.pk]

    def test_pagination(self, anon):
        playlists = [make_playlist() for _ in range(3)]
        body = anon.get(PLAYLISTS, {"page_size": 2}).json()
        assert body["count"] == 3 and [r["id"] for r in body["results"]] == [p.pk for p in playlists[:2]]
        assert body["next"] == "http://testserver/api/v1/playlists/?page=2&page_size=2"


class TestWrite:
    def test_create(self, user_api, user):
        response = user_api.post(PLAYLISTS, {"title": "Focus", "is_public": False}, format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["owner"]["id"] == user.pk and body["is_public"] is False and body["track_count"] == 0
        assert Playlist.objects.get(pk=body["id"]).owner == user

    def test_create_requires_login(self, anon):
        response = anon.post(PLAYLISTS, {"title": "x"}, format="json")
        assert response.status_code == 401

    def test_validation(self, user_api):
        response = user_api.post(PLAYLISTS, {"title": "", "is_public": "maybe"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"title": ["This field may not be blank."], "is_public": ["Must be a valid boolean."]}

    def test_owner_updates_and_deletes(self, user_api, user):
        playlist = make_playlist(user, tracks=1)
        response = user_api.patch(f"{PLAYLISTS}{playlist.pk}/", {"title": "Renamed"}, format="json")
        assert response.status_code == 200 and response.json()["title"] == "Renamed"
        assert response.json()["track_count"] == 1
        assert user_api.delete(f"{PLAYLISTS}{playlist.pk}/").status_code == 204
        assert not Playlist.objects.filter(pk=playlist.pk).exists()

    def test_other_user_cannot_change_a_public_playlist(self, other_api, user):
        playlist = make_playlist(user)
        response = other_api.patch(f"{PLAYLISTS}{playlist.pk}/", {"title": "Mine"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "You do not have permission to perform this action."}

    def test_admin_changes_any(self, admin_api, user):
        playlist = make_playlist(user, is_public=False)
        assert admin_api.patch(f"{PLAYLISTS}{playlist.pk}/", {"title": "Mod"}, format="json").status_code == 200
