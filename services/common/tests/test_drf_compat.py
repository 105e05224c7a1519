"""Unit tests of the DRF-compatible pieces every service shares (no database, no network)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import jwt
import pytest
from starlette.requests import Request

from services.common.auth import Authenticator, Principal, TokenAuthFailed, TokenSettings, validate_access_token
from services.common.errors import NotFound, ValidationError
from services.common.fields import CharField, DecimalField, IntegerField, PrimaryKeyField, url_check, validate
from services.common.filters import CharFilter, FilterSet, NumberFilter
from services.common.formats import drf_date, drf_datetime, drf_decimal
from services.common.ordering import requested_ordering
from services.common.pagination import Page, page_number, page_request, replace_query_param
from services.common.public_url import absolute_uri, host_allowed
from services.common.settings import DEV_JWT_SIGNING_KEY
from sqlalchemy import column

SETTINGS = TokenSettings(DEV_JWT_SIGNING_KEY)


def request(path="/api/v1/tracks/", query=b"", headers=()):
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query, "scheme": "http",
             "server": ("127.0.0.1", 8101), "headers": [(k.lower().encode(), v.encode()) for k, v in headers]}
    return Request(scope)


def token(**claims):
    base = {"token_type": "access", "exp": 4102444800, "iat": 1700000000, "jti": "j", "user_id": 7}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, DEV_JWT_SIGNING_KEY, algorithm="HS256")


def test_formats_match_drf():
    assert drf_datetime(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)) == "2026-01-02T03:04:05Z"
    assert drf_datetime(dt.datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=dt.timezone.utc)) == "2026-01-02T03:04:05.000120Z"
    # Any zone is rendered in UTC, as Django's localtime(value, UTC) + isoformat does.
    for zone in ("Etc/UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata"):
        for value in (dt.datetime(2026, 1, 1, 0, 30, 0, 5), dt.datetime(2026, 7, 1, 23, 59, 59),
                      dt.datetime(2026, 3, 29, 2, 30, fold=1)):
            local = value.replace(tzinfo=ZoneInfo(zone))
            expected = local.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
            assert drf_datetime(local) == expected
    assert drf_date(dt.date(2024, 2, 29)) == "2024-02-29"
    assert drf_decimal(Decimal("1.5"), 2) == "1.50" and drf_decimal(Decimal("0"), 2) == "0.00"


def test_page_size_and_page_number_rules():
    assert page_request(request(query=b"page_size=1000")).page_size == 100
    assert page_request(request(query=b"page_size=0")).page_size == 20
    assert page_request(request(query=b"page_size=abc")).page_size == 20
    assert page_request(request(query=b"page=")).page == "1"
    assert page_number("last", 41, 20) == 3
    assert page_number("1", 0, 20) == 1
    for bad in ("0", "4", "1.0", "abc"):
        with pytest.raises(NotFound) as exc:
            page_number(bad, 41, 20)
        assert exc.value.body() == {"detail": "Invalid page."}


def test_links_sorted_and_forwarded():
    req = request(query=b"page=2&b=1&a=2", headers=[("Host", "localhost:8080"), ("X-Forwarded-Proto", "https")])
    next_link, previous = Page(2, 20, 100).links(req)
    assert next_link == "https://localhost:8080/api/v1/tracks/?a=2&b=1&page=3"
    assert previous == "https://localhost:8080/api/v1/tracks/?a=2&b=1"
    assert absolute_uri(request(headers=[("X-Forwarded-Host", "proxy:9"), ("Host", "x")])).startswith("http://proxy:9/")
    assert replace_query_param("http://h/p?x=1", "page", 2) == "http://h/p?page=2&x=1"


def test_allowed_hosts_like_django():
    allowed = ["localhost", "127.0.0.1", "[::1]", ".example.com"]
    assert host_allowed("localhost:8080", allowed) and host_allowed("a.example.com", allowed)
    assert not host_allowed("evil.com", allowed) and not host_allowed("localhost, proxy", allowed)


def test_filters_messages_and_truncation():
    filters = FilterSet(NumberFilter("genre", column("genre_id")), NumberFilter("min", column("d"), "gte"),
                        CharFilter("q", column("t"), "icontains"))
    with pytest.raises(ValidationError) as exc:
        filters.conditions({"genre": "abc", "min": "1e51", "q": "ok"})
    assert exc.value.body() == {"genre": ["Enter a number."], "min": ["Ensure this value is less than or equal to 1e+50."]}
    assert filters.conditions({"genre": "", "q": "   "}) == []
    condition = filters.conditions({"min": "1000.7"})[0]
    assert condition.right.value == 1000   # Django prepares the value with int(): truncation


def test_ordering_like_stable_ordering_filter():
    allowed = ["popularity", "title", "id"]
    assert requested_ordering("-popularity", allowed) == [("popularity", True), ("id", True)]
    assert requested_ordering("bogus, title", allowed) == [("title", False), ("id", False)]
    assert requested_ordering("bogus", allowed) is None and requested_ordering("", allowed) is None
    assert requested_ordering("id,title", allowed) == [("id", False), ("title", False)]


@pytest.mark.parametrize("claims, message", [
    ({"exp": 1000}, "Token is expired"),
    ({"token_type": "refresh"}, "Token has wrong type"),
    ({"token_type": None}, "Token has no type"),
    ({"jti": None}, "Token has no id"),
    ({"exp": None}, "Token has no 'exp' claim"),
])
def test_token_errors_like_simplejwt(claims, message):
    with pytest.raises(TokenAuthFailed) as exc:
        validate_access_token(token(**claims), SETTINGS)
    assert exc.value.body() == {"detail": "Given token not valid for any token type", "code": "token_not_valid",
                                "messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}]}
    assert exc.value.headers == {"WWW-Authenticate": 'Bearer realm="api"'}


async def test_authenticator_user_checks():
    users = {7: Principal(7, "artist"), 8: Principal(8, is_active=False)}

    async def lookup(user_id):
        return users.get(user_id)

    auth = Authenticator(SETTINGS, lookup)
    assert (await auth.authenticate(request(headers=[("Authorization", "Bearer " + token())]))).is_artist
    assert await auth.authenticate(request(headers=[("Authorization", "Basic abc")])) is None
    for header, body in [("Bearer " + token(user_id=9), {"detail": "User not found", "code": "user_not_found"}),
                         ("Bearer " + token(user_id=8), {"detail": "User is inactive", "code": "user_inactive"}),
                         ("Bearer a b", {"detail": "Authorization header must contain two space-delimited values",
                                         "code": "bad_authorization_header"})]:
        with pytest.raises(TokenAuthFailed) as exc:
            await auth.authenticate(request(headers=[("Authorization", header)]))
        assert exc.value.body() == body


async def test_field_validation_messages():
    async def exists(pk):
        return pk == 1

    fields = [CharField("title", max_length=5), PrimaryKeyField("artist_id", exists=exists),
              IntegerField("duration_ms", min_value=1000), DecimalField("price", required=False)]
    with pytest.raises(ValidationError) as exc:
        await validate({"title": "toolong", "artist_id": 2, "duration_ms": "7.5", "price": "1.999"}, fields)
    assert exc.value.body() == {
        "title": ["Ensure this field has no more than 5 characters."],
        "artist_id": ['Invalid pk "2" - object does not exist.'],
        "duration_ms": ["A valid integer is required."],
        "price": ["Ensure that there are no more than 2 decimal places."],
    }
    assert await validate({"title": " ok ", "artist_id": "1", "duration_ms": "2000.0"}, fields) == {
        "title": "ok", "artist_id": 1, "duration_ms": 2000}
    with pytest.raises(ValidationError) as exc:
        await validate([1], fields)
    assert exc.value.body() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    assert url_check("https://cdn.example.com/a.jpg") is None and url_check("not a url") == "Enter a valid URL."
