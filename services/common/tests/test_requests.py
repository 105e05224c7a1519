"""services.common.requests against DRF: content negotiation with the monolith's renderers (JSON + browsable
API), URL primary keys, and request bodies through DRF's JSON parser."""
from __future__ import annotations

import io

import pytest
from django.http import Http404
from django.test import RequestFactory
from rest_framework import exceptions as drf
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request as DRFRequest
from starlette.requests import Request

from services.common.errors import NotFound, ParseError, UnsupportedMediaType
from services.common.requests import NotAcceptable, negotiate, parse_pk, request_data


def drf_negotiation(accept, query, suffix):
    headers = {} if accept is None else {"Accept": accept}
    request = DRFRequest(RequestFactory().get("/api/v1/tracks/" + ("?" + query if query else ""), headers=headers))
    try:
        DefaultContentNegotiation().select_renderer(request, [JSONRenderer(), BrowsableAPIRenderer()], suffix)
    except Http404:
        return 404
    except drf.NotAcceptable:
        return 406
    return 200


def our_negotiation(accept, query, suffix):
    headers = [] if accept is None else [(b"accept", accept.encode())]
    request = Request({"type": "http", "method": "GET", "path": "/api/v1/tracks/", "headers": headers,
                       "query_string": query.encode()})
    try:
        negotiate(request, suffix)
    except NotFound as exc:
        assert exc.body() == {"detail": "Not found."}
        return 404
    except NotAcceptable as exc:
        assert exc.body() == {"detail": "Could not satisfy the request Accept header."}
        return 406
    return 200


ACCEPTS = [None, "", "application/json", "APPLICATION/JSON", "application/json; indent=4", "application/*", "*/*",
           "text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/xml",
           "text/plain", "image/png, */*;q=0.1", "application/vnd.api+json", "application/xml, application/json"]


def _disagrees(accept, query, suffix):
    """Where negotiate() is known to differ from DRF (see the xfail reasons)."""
    named = suffix or (query.split("=", 1)[1] if query else None)
    if accept == "" and named in (None, "json", "api"):
        return "an empty Accept header matches no renderer in DRF (406); negotiate() treats it as absent"
    if named in ("json", "api") and accept is not None:
        wanted = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
        renderer = "application/json" if named == "json" else "text/html"
        family = renderer.split("/")[0] + "/*"
        if not wanted & {renderer, family, "*/*"}:
            return ("DRF still applies the Accept header after ?format=/a suffix picked the renderer (406); "
                    "negotiate() accepts any Accept once a format is named")
    return None


CASES = []
for _accept in ACCEPTS:
    for _query, _suffix in [("", None), ("format=json", None), ("format=api", None), ("format=xml", None),
                            ("", "json"), ("", "xml")]:
        _reason = _disagrees(_accept, _query, _suffix)
        CASES.append(pytest.param(_accept, _query, _suffix, marks=[pytest.mark.xfail(strict=True, reason=_reason)]
                                  if _reason else []))


@pytest.mark.parametrize("accept, query, suffix", CASES)
def test_negotiation_equals_drf(accept, query, suffix):
    assert our_negotiation(accept, query, suffix) == drf_negotiation(accept, query, suffix)


@pytest.mark.xfail(strict=True, reason="Accept: text/* selects DRF's BrowsableAPIRenderer (text/html); "
                   "negotiate() answers 406")
def test_text_wildcard_accept_equals_drf():
    assert our_negotiation("text/*", "", None) == drf_negotiation("text/*", "", None)


def test_format_suffix_from_the_scope():
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"",
                       "format_suffix": "xml"})
    with pytest.raises(NotFound):
        negotiate(request)


def test_parse_pk():
    assert parse_pk("42", "Track") == 42
    assert parse_pk("-1", "Track") == -1
    with pytest.raises(NotFound) as exc:
        parse_pk("abc", "Track")
    assert exc.value.body() == {"detail": "Not found."}
    with pytest.raises(NotFound) as exc:
        parse_pk(str(2**63), "Track")
    assert exc.value.body() == {"detail": "No Track matches the given query."}
    assert parse_pk(str(2**63 - 1), "Track") == 2**63 - 1


async def our_data(body: bytes, content_type):
    headers = [] if content_type is None else [(b"content-type", content_type.encode())]
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await request_data(Request({"type": "http", "method": "POST", "path": "/", "headers": headers,
                                       "query_string": b""}, receive))


@pytest.mark.parametrize("body", [b'{"a": 1}', b"[1, 2]", b'"text"', b"{bad", b"{'a': 1}", b'{"a": NaN}',
                                  b'{"a": Infinity}', b'{"a": -Infinity}', b"\xff\xfe", b'{"a": 1} x', b"  "])
async def test_json_bodies_equal_drfs_json_parser(body):
    try:
        expected = ("ok", JSONParser().parse(io.BytesIO(body), "application/json", {}))
    except drf.ParseError as exc:
        expected = ("error", str(exc.detail))
    try:
        ours = ("ok", await our_data(body, "application/json"))
    except ParseError as exc:
        ours = ("error", exc.body()["detail"])
    assert ours == expected


async def test_other_bodies():
    assert await our_data(b"", "application/json") == {}
    assert await our_data(b'{"a": 1}', None) == {}
    assert await our_data(b'{"a": 1}', "application/vnd.api+json; charset=utf-8") == {"a": 1}
    assert await our_data(b"a=1&b=&a=2", "application/x-www-form-urlencoded") == {"a": "2", "b": ""}
    with pytest.raises(UnsupportedMediaType) as exc:
        await our_data(b"x", "text/plain; charset=utf-8")
    assert exc.value.status_code == 415
    assert exc.value.body() == {"detail": drf.UnsupportedMediaType("text/plain; charset=utf-8").detail}
