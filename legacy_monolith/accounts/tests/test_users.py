"""The signed-in user's account (me) and public user pages."""
import pytest

from vobemusic.testing import make_user

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"


class TestMe:
    def test_anonymous_gets_401(self, anon):
        response = anon.get(ME)
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}

    def test_shape(self, user_api, user):
        body = user_api.get(ME).json()
        assert set(body) == {
            "id", "username", "email", "first_name", "last_name", "role", "date_joined", "last_login", "profile",
        }
        assert body["id"] == user.pk and body["email"] == user.email
        assert set(body["profile"]) == {"display_name", "bio", "avatar_url", "country", "created_at", "updated_at"}

    def test_patch_updates_names_and_profile(self, user_api, user):
        response = user_api.patch(
            ME, {"first_name": "Ann", "profile": {"bio": "Loves jazz", "country": "fr"}}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["first_name"] == "Ann"
        assert response.json()["profile"]["country"] == "FR"
        user.profile.refresh_from_db()
        assert user.profile.bio == "Loves jazz"

    def test_role_and_username_are_read_only(self, user_api, user):
        user_api.patch(ME, {"role": "admin", "username": "root"}, format="json")
        user.refresh_from_db()
        assert user.role == "user" and user.username != "root"

    def test_email_must_stay_unique(self, user_api, other_user):
        response = user_api.patch(ME, {"email": other_user.email}, format="json")
        assert response.status_code == 400
        assert response.json() == {"email": ["user with this email already exists."]}

    def test_bad_country(self, user_api):
        response = user_api.patch(ME, {"profile": {"country": "France"}}, format="json")
        assert response.status_code == 400
        assert response.json() == {"profile": {"country": ["Ensure this field has no more than 2 characters."]}}

    def test_put_is_not_allowed(self, user_api):
        response = user_api.put(ME, {}, format="json")
        assert response.status_code == 405
        assert response.json() == {"detail": 'Method "PUT" not allowed.'}


class TestUsers:
    def test_public_list_hides_emails(self, anon, user, artist_user):
        body = anon.get("/api/v1/users/").json()
        assert body["count"] == 2
        assert [row["id"] for row in body["results"]] == [user.pk, artist_user.pk]
        assert "email" not in body["results"][0]
        assert set(body["results"][0]) == {"id", "username", "role", "date_joined", "profile"}

    def test_filter_by_role_and_search(self, anon, user, artist_user):
        assert [r["id"] for r in anon.get("/api/v1/users/?role=artist").json()["results"]] == [artist_user.pk]
        make_user(username="zed-the-listener")
        assert anon.get("/api/v1/users/?search=zed").json()["count"] == 1

    def test_detail_and_404(self, anon, user):
        assert anon.get(f"/api/v1/users/{user.pk}/").json()["username"] == user.username
        response = anon.get("/api/v1/users/999999/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No User matches the given query."}

    def test_users_are_read_only(self, admin_api):
        assert admin_api.post("/api/v1/users/", {}, format="json").status_code == 405
