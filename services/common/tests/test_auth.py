"""services.common.auth against rest_framework_simplejwt as the monolith configures it: the same 401 bodies
for every bad token, header and user, computed by simplejwt's own JWTAuthentication."""
from __future__ import annotations

import datetime as dt

import jwt
import pytest
from django.test import RequestFactory
from rest_framework import exceptions as drf
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken
from starlette.requests import Request

from services.common.auth import (Authenticator, Principal, TokenAuthFailed, TokenSettings, permission_denied,
                                  validate_access_token)
from services.common.errors import NotAuthenticated, PermissionDenied
from services.common.settings import DEV_JWT_SIGNING_KEY

SETTINGS = TokenSettings(DEV_JWT_SIGNING_KEY)
FUTURE = 4102444800


def token(key=DEV_JWT_SIGNING_KEY, algorithm="HS256", **claims):
    base = {"token_type": "access", "exp": FUTURE, "iat": 1700000000, "jti": "j", "user_id": 7}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, key, algorithm=algorithm)


class FakeUser:
    class DoesNotExist(Exception):
        pass

    def __init__(self, pk, is_active=True):
        self.pk, self.id, self.is_active = pk, pk, is_active

    class objects:
        @staticmethod
        def get(**lookup):
            from django.db.models import BigAutoField
            users = {7: FakeUser(7), 8: FakeUser(8, is_active=False)}
            pk = BigAutoField().get_prep_value(lookup["id"])     # what the ORM does with the claim
            if pk not in users:
                raise FakeUser.DoesNotExist()
            return users[pk]


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value)


def simplejwt_answer(header):
    authentication = JWTAuthentication()
    authentication.user_model = FakeUser
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=header)
    try:
        user = authentication.authenticate(request)
    except drf.AuthenticationFailed as exc:
        return 401, _plain(exc.detail), authentication.authenticate_header(request)
    return 200, None if user is None else user[0].id, None


async def our_answer(header):
    async def lookup(user_id):
        return {7: Principal(7), 8: Principal(8, is_active=False)}.get(user_id)

    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"",
             "headers": [(b"authorization", header.encode("latin-1"))]}
    try:
        user = await Authenticator(SETTINGS, lookup).authenticate(Request(scope))
    except TokenAuthFailed as exc:
        assert exc.status_code == 401
        return 401, exc.body(), exc.headers["WWW-Authenticate"]
    return 200, None if user is None else user.id, None


HEADERS = {
    "valid": "Bearer " + token(),
    "expired": "Bearer " + token(exp=1000),
    "wrong signature": "Bearer " + token(key="another-key-another-key-another-key!"),
    "HS512": "Bearer " + token(algorithm="HS512"),
    "alg none": "Bearer " + jwt.encode({"token_type": "access", "exp": FUTURE, "jti": "j", "user_id": 7}, None,
                                       algorithm="none"),
    "refresh type": "Bearer " + token(token_type="refresh"),
    "no type": "Bearer " + token(token_type=None),
    "no jti": "Bearer " + token(jti=None),
    "no exp": "Bearer " + token(exp=None),
    "exp not a number": "Bearer " + token(exp="soon"),
    "garbage": "Bearer not.a.token",
    "no user_id": "Bearer " + token(user_id=None),
    "unknown user": "Bearer " + token(user_id=9),
    "inactive user": "Bearer " + token(user_id=8),
    "user id as string": "Bearer " + token(user_id="7"),
    "three parts": "Bearer a b",
    "bearer only": "Bearer",
    "lower-case bearer": "bearer " + token(),
    "basic": "Basic dXNlcjpwYXNz",
    "empty": "",
}


@pytest.mark.parametrize("case", list(HEADERS))
async def test_authentication_equals_simplejwt(case):
    assert await our_answer(HEADERS[case]) == simplejwt_answer(HEADERS[case])


def test_token_exp_claim_expired_after_decoding_equals_simplejwt():
    raw = token()
    later = dt.datetime.fromtimestamp(FUTURE + 1, tz=dt.timezone.utc)
    theirs = AccessToken(raw, verify=False)
    theirs.current_time = later
    with pytest.raises(TokenError) as expected:
        theirs.verify()
    with pytest.raises(TokenAuthFailed) as exc:
        validate_access_token(raw, SETTINGS, now=later)
    assert exc.value.body()["messages"][0]["message"] == str(expected.value) == "Token 'exp' claim has expired"


def test_leeway_accepts_a_recently_expired_token():
    import time
    raw = token(exp=int(time.time()) - 5)
    with pytest.raises(TokenAuthFailed):
        validate_access_token(raw, SETTINGS)
    assert validate_access_token(raw, TokenSettings(DEV_JWT_SIGNING_KEY, leeway_seconds=60))["user_id"] == 7


def test_no_authorization_header_is_anonymous():
    async def lookup(user_id):
        raise AssertionError("no lookup without a token")

    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": []}
    import asyncio
    assert asyncio.run(Authenticator(SETTINGS, lookup).authenticate(Request(scope))) is None


def test_permission_denied_like_drf():
    anonymous = permission_denied(None)
    assert isinstance(anonymous, NotAuthenticated)
    assert (anonymous.status_code, anonymous.body(), anonymous.headers) == (
        401, {"detail": "Authentication credentials were not provided."}, {"WWW-Authenticate": 'Bearer realm="api"'})
    denied = permission_denied(Principal(1), "Only the artist may do this.")
    assert isinstance(denied, PermissionDenied) and denied.status_code == 403
    assert denied.body() == {"detail": "Only the artist may do this."}
    assert permission_denied(Principal(1)).body() == {"detail": "You do not have permission to perform this action."}
    assert Principal(1, "admin").is_platform_admin and Principal(1, is_staff=True).is_platform_admin
    assert not Principal(1, "artist").is_platform_admin and Principal(1, "artist").is_artist
