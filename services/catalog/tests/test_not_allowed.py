"""405 answers: DRF's Allow header per kind of route, permissions checked first, and fixed paths
(`/tracks/popular/`) refused as actions, not as a detail route with the pk "popular"."""
from __future__ import annotations

import pytest

from services.catalog.tests.conftest import admin_id
from tests.parity.tokens import access_token

LIST = "GET, POST, HEAD, OPTIONS"
DETAIL = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
ACTION = "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("method, path, allow", [
    ("POST", "/api/v1/tracks/popular/", ACTION),
    ("DELETE", "/api/v1/tracks/popular/", ACTION),
    ("POST", "/api/v1/tracks/5/", DETAIL),
    ("PUT", "/api/v1/tracks/", LIST),
    ("PATCH", "/api/v1/albums/", LIST),
    ("POST", "/api/v1/albums/1/", DETAIL),
    ("POST", "/api/v1/albums/1/tracks/", ACTION),
    ("DELETE", "/api/v1/artists/", LIST),
    ("POST", "/api/v1/artists/1/", DETAIL),
    ("PUT", "/api/v1/artists/1/albums/", ACTION),
    ("POST", "/api/v1/artists/1/tracks/", ACTION),
    ("DELETE", "/api/v1/genres/", LIST),
    ("POST", "/api/v1/genres/1/", DETAIL),
])
async def test_refused_methods_answer_405_with_the_allowed_ones(databases, client, method, path, allow):
    headers = {"Authorization": "Bearer " + access_token(admin_id(databases[0]))}
    response = await client.request(method, path, headers=headers, json={})
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.json() == {"detail": f'Method "{method}" not allowed.'}


@pytest.mark.parametrize("path", ["/api/v1/tracks/popular/", "/api/v1/genres/", "/api/v1/artists/1/albums/"])
async def test_permissions_come_before_405(client, path):
    response = await client.put(path, json={})
    assert response.status_code == 401
    assert "allow" not in response.headers
