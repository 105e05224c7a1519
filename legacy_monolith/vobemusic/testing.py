"""Fixtures and small factories shared by the monolith's test suites.

An app's ``tests/conftest.py`` pulls them in with ``from vobemusic.testing import *  # noqa: F401,F403``.
Factories are plain functions (no factory library): each takes keyword overrides and returns a saved row."""
from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Profile, User
from catalog.models import Album, Artist, Genre, Track

PASSWORD = "Correct-Horse-42"
_sequence = itertools.count(1)


def make_user(role: str = User.Role.USER, **fields) -> User:
    n = next(_sequence)
    fields.setdefault("username", f"{role}{n}")
    fields.setdefault("email", f"{fields['username']}@example.com")
    user = User.objects.create_user(password=PASSWORD, role=role, **fields)
    Profile.objects.create(user=user, display_name=fields["username"].title())
    return user


def make_genre(**fields) -> Genre:
    n = next(_sequence)
    fields.setdefault("name", f"Genre {n}")
    fields.setdefault("slug", f"genre-{n}")
    return Genre.objects.create(**fields)


def make_artist(**fields) -> Artist:
    fields.setdefault("name", f"Artist {next(_sequence)}")
    return Artist.objects.create(**fields)


def make_album(artist: Artist | None = None, **fields) -> Album:
    fields.setdefault("title", f"Album {next(_sequence)}")
    return Album.objects.create(artist=artist or make_artist(), **fields)


def make_track(artist: Artist | None = None, **fields) -> Track:
    fields.setdefault("title", f"Track {next(_sequence)}")
    fields.setdefault("duration_ms", 200_000)
    fields.setdefault("price", Decimal("0.99"))
    return Track.objects.create(artist=artist or make_artist(), **fields)


def client_for(user: User | None) -> APIClient:
    """An API client authenticated with a real JWT access token (as mobile clients do)."""
    from accounts.serializers import tokens_for

    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_for(user)['access']}")
    return client


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def other_user(db):
    return make_user()


@pytest.fixture
def artist_user(db):
    return make_user(role=User.Role.ARTIST)


@pytest.fixture
def admin(db):
    return make_user(role=User.Role.ADMIN)


@pytest.fixture
def user_api(user):
    return client_for(user)


@pytest.fixture
def other_api(other_user):
    return client_for(other_user)


@pytest.fixture
def artist_api(artist_user):
    return client_for(artist_user)


@pytest.fixture
def admin_api(admin):
    return client_for(admin)
