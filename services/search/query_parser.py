"""HTTP query parameters -> an engine-neutral SearchRequest, with the monolith's validation messages.

`q` is DRF's CharField(max_length=100) (trimmed; required; not blank; no NUL characters), `limit` of
/suggest is IntegerField(min_value=1, max_value=20, default=10), and the track filters are the
monolith's django-filter NumberFilter/CharFilter (search/filters.py) with django-filter's messages.
Errors are collected and raised together as a DRF 400 `{"param": ["message"]}`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Mapping, Optional

from services.common.errors import ValidationError
from services.common.filters import FilterValueError, ServerError, parse_number
from services.search import text_analysis

MAX_QUERY_LENGTH = 100
SUGGEST_LIMIT_DEFAULT, SUGGEST_LIMIT_MIN, SUGGEST_LIMIT_MAX = 10, 1, 20

REQUIRED = "This field is required."
BLANK = "This field may not be blank."
TOO_LONG = f"Ensure this field has no more than {MAX_QUERY_LENGTH} characters."
NULL_CHARACTERS = "Null characters are not allowed."
NOT_AN_INTEGER = "A valid integer is required."


@dataclass(frozen=True)
class TextQuery:
    text: str                  # `q` as validated (trimmed), echoed back in mixed search and suggest
    terms: tuple[str, ...]     # its analysed words; empty when it has none (only punctuation)


@dataclass(frozen=True)
class TrackFilters:
    integer_equals: dict
    integer_ranges: dict
    keyword_equals: dict


def _q_errors(params: Mapping[str, str]) -> tuple[Optional[str], list[str]]:
    if "q" not in params:
        return None, [REQUIRED]
    text = params["q"].strip()  # DRF's trim_whitespace
    if not text:
        return None, [BLANK]
    errors = []
    if len(text) > MAX_QUERY_LENGTH:
        errors.append(TOO_LONG)
    if "\x00" in text:
        errors.append(NULL_CHARACTERS)
    return text, errors


def parse_text_query(params: Mapping[str, str]) -> TextQuery:
    text, errors = _q_errors(params)
    if errors:
        raise ValidationError({"q": errors})
    return TextQuery(text, tuple(text_analysis.words(text)))


_INTEGER_TAIL = re.compile(r"\.0*\s*$")  # DRF IntegerField accepts "5.0"


def parse_suggest_query(params: Mapping[str, str]) -> tuple[TextQuery, int]:
    errors: dict[str, list[str]] = {}
    text, q_errors = _q_errors(params)
    if q_errors:
        errors["q"] = q_errors
    limit = SUGGEST_LIMIT_DEFAULT
    # An empty value of a field with a default means "use the default" for DRF's form-style input.
    if params.get("limit", "") != "":
        raw = params["limit"]
        try:
            limit = int(_INTEGER_TAIL.sub("", str(raw)))
            if limit < SUGGEST_LIMIT_MIN:
                errors["limit"] = [f"Ensure this value is greater than or equal to {SUGGEST_LIMIT_MIN}."]
            elif limit > SUGGEST_LIMIT_MAX:
                errors["limit"] = [f"Ensure this value is less than or equal to {SUGGEST_LIMIT_MAX}."]
        except ValueError:
            errors["limit"] = [NOT_AN_INTEGER]
    if errors:
        raise ValidationError(errors)
    return TextQuery(text, tuple(text_analysis.words(text))), limit


# -- track filters (legacy_monolith/search/filters.py: TrackSearchFilter) ------------------------
_EQUALS = {"genre": "genre_id", "artist": "artist_id"}
_RANGES = {"year_min": ("year", 0), "year_max": ("year", 1), "duration_min": ("duration_ms", 0),
           "duration_max": ("duration_ms", 1)}


def parse_track_filters(params: Mapping[str, str]) -> TrackFilters:
    equals, ranges, keywords = {}, {}, {}
    errors: dict[str, list[str]] = {}
    for name in ("genre", "genre_slug", "artist", "year_min", "year_max", "duration_min", "duration_max"):
        raw = params.get(name)
        if raw is None or raw == "":
            continue
        try:
            if name == "genre_slug":
                value = raw.strip()
                if "\x00" in value:
                    raise FilterValueError(NULL_CHARACTERS)
                if value:
                    keywords["genre_slug"] = value
                continue
            # Integer columns take int(Decimal), truncating, exactly as Django prepares the value.
            number = int(parse_number(raw))
        except FilterValueError as exc:
            errors[name] = [str(exc)]
            continue
        if name in _EQUALS:
            equals[_EQUALS[name]] = number
        else:
            field, side = _RANGES[name]
            if field == "year":
                _check_year(number)
            bounds = list(ranges.get(field, (None, None)))
            bounds[side] = number
            ranges[field] = tuple(bounds)
    if errors:
        raise ValidationError(errors)
    return TrackFilters(equals, ranges, keywords)


def _check_year(year: int) -> None:
    # The monolith's __year lookup builds datetime.date(year, 1, 1) and fails with a 500 outside
    # 1..9999; the search service answers that with a 500 too rather than inventing a result.
    try:
        dt.date(year, 1, 1)
    except (ValueError, OverflowError) as exc:
        raise ServerError(f"year {year} out of range") from exc
