"""Registration and the JWT flow: login, claims, refresh rotation, blacklist, logout, bad tokens."""
import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from vobemusic.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"


def register(anon, **overrides):
    body = {"username": "mira", "email": "mira@example.com", "password": PASSWORD, **overrides}
    return anon.post(REGISTER, body, format="json")


def login(anon, username, password=PASSWORD):
    return anon.post(LOGIN, {"username": username, "password": password}, format="json")


class TestRegister:
    def test_creates_user_profile_and_tokens(self, anon):
        response = register(anon, display_name="Mira K")
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"user", "access", "refresh"}
        assert body["user"]["username"] == "mira"
        assert body["user"]["role"] == "user"
        assert body["user"]["profile"]["display_name"] == "Mira K"
        user = User.objects.get(username="mira")
        assert user.check_password(PASSWORD) and user.profile.display_name == "Mira K"
        assert str(AccessToken(body["access"])["user_id"]) == str(user.pk)

    def test_artist_role_can_be_chosen(self, anon):
        assert register(anon, role="artist").json()["user"]["role"] == "artist"

    def test_admin_role_cannot_be_chosen(self, anon):
        response = register(anon, role="admin")
        assert response.status_code == 400
        assert response.json() == {"role": ['"admin" is not a valid choice.']}

    def test_duplicate_username_and_email(self, anon):
        make_user(username="mira", email="mira@example.com")
        response = register(anon)
        assert response.status_code == 400
        assert response.json() == {
            "username": ["A user with that username already exists."],
            "email": ["user with this email already exists."],
        }

    def test_weak_password_rejected_with_validator_messages(self, anon):
        response = register(anon, password="123")
        assert response.status_code == 400
        assert "This password is too short. It must contain at least 8 characters." in response.json()["password"]

    def test_missing_fields(self, anon):
        response = anon.post(REGISTER, {}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "username": ["This field is required."],
            "email": ["This field is required."],
            "password": ["This field is required."],
        }

    def test_malformed_json_gets_drf_parse_error(self, anon):
        response = anon.post(REGISTER, '{"username": ', content_type="application/json")
        assert response.status_code == 400
        assert response.json()["detail"].startswith("JSON parse error")


class TestLogin:
    def test_returns_pair_with_role_and_username_claims(self, anon, artist_user):
        response = login(anon, artist_user.username)
        assert response.status_code == 200
        assert set(response.json()) == {"access", "refresh"}
        claims = AccessToken(response.json()["access"])
        assert claims["username"] == artist_user.username
        assert claims["role"] == "artist"
        assert str(claims["user_id"]) == str(artist_user.pk)
        artist_user.refresh_from_db()
        assert artist_user.last_login is not None

    def test_wrong_password(self, anon, user):
        response = login(anon, user.username, "nope-nope-nope")
        assert response.status_code == 401
        assert response.json() == {"detail": "No active account found with the given credentials"}

    def test_missing_password(self, anon):
        response = anon.post(LOGIN, {"username": "x"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"password": ["This field is required."]}

    def test_is_throttled_with_scope_login(self, anon, user, monkeypatch):
        from django.core.cache import cache
        from rest_framework.throttling import ScopedRateThrottle

        cache.clear()
        monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "2/min"})
        responses = [login(anon, user.username) for _ in range(3)]
        cache.clear()
        assert [r.status_code for r in responses] == [200, 200, 429]
        assert responses[2].json()["detail"].startswith("Request was throttled.")


class TestRefreshAndLogout:
    def test_refresh_rotates_and_blacklists_the_old_token(self, anon, user):
        first = login(anon, user.username).json()
        rotated = anon.post(REFRESH, {"refresh": first["refresh"]}, format="json")
        assert rotated.status_code == 200
        assert set(rotated.json()) == {"access", "refresh"}
        assert rotated.json()["refresh"] != first["refresh"]
        reused = anon.post(REFRESH, {"refresh": first["refresh"]}, format="json")
        assert reused.status_code == 401
        assert reused.json() == {"detail": "Token is blacklisted", "code": "token_not_valid"}

    def test_garbage_refresh_token(self, anon):
        response = anon.post(REFRESH, {"refresh": "not-a-token"}, format="json")
        assert response.status_code == 401
        assert response.json() == {"detail": "Token is invalid", "code": "token_not_valid"}

    def test_access_token_is_not_a_refresh_token(self, anon, user):
        access = login(anon, user.username).json()["access"]
        response = anon.post(REFRESH, {"refresh": access}, format="json")
        assert response.status_code == 401

    def test_logout_blacklists_refresh(self, anon, user):
        tokens = login(anon, user.username).json()
        assert anon.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json").status_code == 204
        response = anon.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
        assert response.status_code == 401

    def test_logout_with_bad_or_missing_token(self, anon):
        assert anon.post(LOGOUT, {"refresh": "junk"}, format="json").status_code == 401
        response = anon.post(LOGOUT, {}, format="json")
        assert response.status_code == 400
        assert response.json() == {"refresh": ["This field is required."]}


class TestBearerTokens:
    def test_bad_bearer_token_is_401_with_simplejwt_body(self, anon):
        anon.credentials(HTTP_AUTHORIZATION="Bearer abc.def.ghi")
        response = anon.get(ME)
        assert response.status_code == 401
        body = response.json()
        assert body["code"] == "token_not_valid"
        assert body["detail"] == "Given token not valid for any token type"

    def test_refresh_token_cannot_be_used_as_bearer(self, anon, user):
        refresh = login(anon, user.username).json()["refresh"]
        anon.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh}")
        assert anon.get(ME).status_code == 401

    def test_token_of_deactivated_user_is_refused(self, anon, user):
        access = login(anon, user.username).json()["access"]
        User.objects.filter(pk=user.pk).update(is_active=False)
        anon.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        assert anon.get(ME).status_code == 401
