"""Request handling DRF does before a view runs: content negotiation, primary keys in URLs, bodies."""
from __future__ import annotations

import json
from typing import Any, Optional

from starlette.requests import Request

from services.common.errors import APIError, NotFound, ParseError, UnsupportedMediaType
from services.common.filters import BIGINT_MAX, BIGINT_MIN


class NotAcceptable(APIError):
    status_code = 406
    default_detail = "Could not satisfy the request Accept header."


_ACCEPTED = {"application/json", "application/*", "*/*", "text/html"}


def negotiate(request: Request, suffix: Optional[str] = None) -> None:
    """DRF's DefaultContentNegotiation with the JSON renderer: `?format=` / `.json` suffix must name
    json (anything else is a 404), and an Accept header must allow JSON (else 406).

    The browsable API (format `api`, Accept: text/html) is served as JSON; see the catalog ADR."""
    fmt = suffix or request.scope.get("format_suffix") or request.query_params.get("format")
    if fmt and fmt not in ("json", "api"):
        raise NotFound()
    accept = request.headers.get("accept")
    if fmt or not accept:
        return
    ranges = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    if not ranges & _ACCEPTED:
        raise NotAcceptable()


def parse_pk(raw: str, model_name: str) -> int:
    """What `queryset.get(pk=raw)` does with a URL segment: int() or a plain 404 'Not found.';
    a well-formed but impossible id is simply not there."""
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise NotFound()
    if not BIGINT_MIN <= pk <= BIGINT_MAX:
        from services.common.errors import not_found_for
        raise not_found_for(model_name)
    return pk


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def request_data(request: Request) -> Any:
    """DRF's request.data for the JSON parser: {} for an empty body or no content type, a 400
    'JSON parse error - ...' for bad JSON, 415 for media types the service does not parse."""
    content_type = request.headers.get("content-type")
    body = await request.body()
    if not content_type or not body:
        return {}
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            # parse_constant: DRF's strict JSON refuses NaN/Infinity the same way.
            return json.loads(body.decode("utf-8"), parse_constant=_strict_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}")
    if media_type == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl

        return {key: value for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True)}
    raise UnsupportedMediaType(content_type)


def _strict_constant(value: str):
    raise ValueError(f"Out of range float values are not JSON compliant: '{value}'")
