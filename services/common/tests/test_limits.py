"""services.common.limits through create_app(): the body and header limits every service has (exact
status and body), and the docs endpoints behind the internal API's auth."""
from __future__ import annotations

import asyncio

import pytest
from fastapi import APIRouter, Request
from starlette.testclient import TestClient

from services.common.app import create_app
from services.common.django_urls import router_bases
from services.common.limits import BODY_TOO_LARGE, DEFAULT_MAX_BODY_BYTES, HEADERS_TOO_LARGE, MAX_HEADER_FIELDS
from services.common.limits import RequestLimits
from services.common.settings import DEV_INTERNAL_TOKEN, ServiceSettings

LIMIT = 1024


def make_client(**overrides) -> TestClient:
    router = APIRouter()

    @router.post("/api/v1/echo/")
    async def echo(request: Request):
        return {"received": len(await request.body())}

    settings = ServiceSettings(service_name="limits-test", **{"max_body_bytes": LIMIT, **overrides})
    app = create_app(settings, [router], public_prefixes=["/api/v1/echo"],
                     url_bases=router_bases("/api/v1", "echo"))
    return TestClient(app)


def test_defaults_equal_the_monoliths(monkeypatch):
    monkeypatch.delenv("VOBE_MAX_BODY_BYTES", raising=False)
    assert ServiceSettings().max_body_bytes == DEFAULT_MAX_BODY_BYTES == 2 * 1024 * 1024
    monkeypatch.setenv("VOBE_MAX_BODY_BYTES", "12345")
    assert ServiceSettings().max_body_bytes == 12345


def test_body_at_the_limit_passes():
    response = make_client().post("/api/v1/echo/", content=b"x" * LIMIT)
    assert response.status_code == 200 and response.json() == {"received": LIMIT}


def test_content_length_over_the_limit_is_413_json():
    response = make_client().post("/api/v1/echo/", content=b"x" * (LIMIT + 1),
                                  headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"detail":"Request body is too large."}'
    assert response.json() == BODY_TOO_LARGE


def test_streamed_body_is_counted():
    def chunks():
        for _ in range(4):
            yield b"y" * (LIMIT // 2)

    response = make_client().post("/api/v1/echo/", content=chunks())  # chunked: no Content-Length
    assert response.status_code == 413 and response.json() == BODY_TOO_LARGE


def test_lying_content_length_is_counted():
    """A Content-Length under the limit with more bytes behind it: the count decides."""
    sent: list = []

    async def inner(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages = [{"type": "http.request", "body": b"z" * LIMIT, "more_body": True},
                {"type": "http.request", "body": b"z", "more_body": False}]

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"10")]}
    asyncio.run(RequestLimits(inner, LIMIT, 8000)(scope, receive, send))
    assert sent[0]["status"] == 413 and sent[1]["body"] == b'{"detail":"Request body is too large."}'


def test_limit_applies_to_every_path():
    response = make_client().post("/no/such/path/", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413 and response.json() == BODY_TOO_LARGE


def test_header_field_too_large_is_431_json():
    response = make_client().post("/api/v1/echo/", content=b"{}", headers={"x-big": "a" * 8000})
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/json"
    assert response.json() == HEADERS_TOO_LARGE == {"detail": "Request header fields are too large."}
    assert make_client().post("/api/v1/echo/", content=b"{}", headers={"x-big": "a" * 7000}).status_code == 200


def test_too_many_header_fields_is_431():
    headers = {f"x-h{i}": "1" for i in range(MAX_HEADER_FIELDS + 1)}
    response = make_client().post("/api/v1/echo/", content=b"{}", headers=headers)
    assert response.status_code == 431 and response.json() == HEADERS_TOO_LARGE


@pytest.mark.parametrize("path", ["/internal/docs", "/internal/openapi.json"])
def test_docs_need_the_internal_token(path):
    client = make_client()
    anonymous = client.get(path)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
    assert client.get(path, headers={"x-internal-token": "wrong"}).status_code == 401
    assert client.get(path, headers={"x-internal-token": DEV_INTERNAL_TOKEN}).status_code == 200


def test_openapi_with_token_is_the_schema():
    response = make_client().get("/internal/openapi.json", headers={"x-internal-token": DEV_INTERNAL_TOKEN})
    assert response.json()["info"]["title"] == "limits-test"
    assert "/api/v1/echo/" in response.json()["paths"]


def test_docs_without_a_token_configured_refuse_everyone():
    client = make_client(internal_token="")
    assert client.get("/internal/openapi.json", headers={"x-internal-token": ""}).status_code == 401
