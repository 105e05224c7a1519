"""Query-string filters that behave like the monolith's django-filter FilterSets.

Parameter parsing and messages are django-filter's / Django forms':
- NumberFilter: a Decimal (`forms.DecimalField`): "Enter a number." for anything else (including NaN and
  infinities), "Ensure this value is less than or equal to 1e+50." above django-filter's cap; the value is
  then prepared the way the model field prepares it (truncated to an int for integer columns, a float for
  float columns, a Decimal for decimal columns);
- CharFilter: `forms.CharField` (stripped; empty means "no filter"; NUL characters rejected);
- an empty value never filters; the last value of a repeated parameter wins (QueryDict.get).
All errors of one request are reported together as `{"param": ["message"]}` (a 400)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Optional, Sequence

from sqlalchemy import ColumnElement, false, func, select, true

from services.common.errors import ValidationError, not_found_for

ENTER_A_NUMBER = "Enter a number."
NUMBER_CAP = Decimal("1e50")
NUMBER_CAP_MESSAGE = "Ensure this value is less than or equal to 1e+50."
NULL_CHARACTERS = "Null characters are not allowed."


class FilterValueError(ValueError):
    pass


class ServerError(Exception):
    """The monolith fails with a 500 for this input (e.g. a year outside 1..9999 makes datetime.date
    raise inside Django's year lookup); a service mirrors that rather than inventing an answer."""


def _comparison(column, lookup: str, value) -> ColumnElement:
    if lookup == "exact":
        return column == value
    if lookup == "gte":
        return column >= value
    if lookup == "lte":
        return column <= value
    raise ValueError(f"unsupported lookup {lookup!r}")


BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def _integer_comparison(column, lookup: str, value: int) -> ColumnElement:
    # Django drops out-of-range integers instead of sending them (IntegerFieldOverflow): the
    # condition is then always false or always true, which is what comparing the numbers means.
    if BIGINT_MIN <= value <= BIGINT_MAX:
        return _comparison(column, lookup, value)
    too_big = value > BIGINT_MAX
    if lookup == "gte":
        return false() if too_big else true()
    if lookup == "lte":
        return true() if too_big else false()
    return false()


def parse_number(raw: str) -> Decimal:
    """forms.DecimalField.clean + django-filter's MaxValueValidator(1e50)."""
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise FilterValueError(ENTER_A_NUMBER)
    if not value.is_finite():
        raise FilterValueError(ENTER_A_NUMBER)
    if value > NUMBER_CAP:
        raise FilterValueError(NUMBER_CAP_MESSAGE)
    return value


@dataclass(frozen=True)
class NumberFilter:
    """`kind` says how the model field prepares the value: "integer" (int(), truncating), "float",
    "decimal", or "year" (Django's __year lookup on a date column)."""

    name: str
    column: Any
    lookup: str = "exact"
    kind: str = "integer"

    def condition(self, raw: str) -> ColumnElement:
        value = parse_number(raw)
        if self.kind == "integer":
            return _integer_comparison(self.column, self.lookup, int(value))
        if self.kind == "float":
            return _comparison(self.column, self.lookup, float(value))
        if self.kind == "decimal":
            return _comparison(self.column, self.lookup, value)
        if self.kind == "year":
            return _year_condition(self.column, self.lookup, int(value))
        raise ValueError(f"unknown number kind {self.kind!r}")


def _year_condition(column, lookup: str, year: int) -> ColumnElement:
    # Django's YearGte/YearLte compare the date column with Jan 1st / Dec 31st of the year.
    try:
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    except (ValueError, OverflowError) as exc:
        raise ServerError(f"year {year} out of range") from exc
    if lookup == "gte":
        return column >= first
    if lookup == "lte":
        return column <= last
    return column.between(first, last)


@dataclass(frozen=True)
class CharFilter:
    """`lookup`: "exact", "iexact" or "icontains" (Django's UPPER(...) LIKE UPPER(...) on Postgres)."""

    name: str
    column: Any
    lookup: str = "exact"

    def condition(self, raw: str) -> Optional[ColumnElement]:
        value = raw.strip()
        if "\x00" in value:
            raise FilterValueError(NULL_CHARACTERS)
        if not value:
            return None
        if self.lookup == "exact":
            return self.column == value
        if self.lookup == "iexact":
            return func.upper(self.column) == func.upper(value)
        if self.lookup == "icontains":
            return func.upper(self.column).like(func.upper(f"%{escape_like(value)}%"))
        raise ValueError(f"unsupported lookup {self.lookup!r}")


def escape_like(value: str) -> str:
    """django.db.backends.postgresql.operations.prep_for_like_query."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class FilterSet:
    """A list of filters over one query; `conditions(params)` returns the SQL conditions for the
    parameters present or raises the DRF ValidationError django-filter would."""

    def __init__(self, *filters):
        self.filters = filters

    def conditions(self, params: Mapping[str, str], lenient: bool = False) -> list[ColumnElement]:
        return list(self.applied(params, lenient).values())

    def applied(self, params: Mapping[str, str], lenient: bool = False) -> dict[str, ColumnElement]:
        """{filter name: SQL condition} for the parameters that filter. An invalid value raises the
        ValidationError DjangoFilterBackend raises, or with `lenient` is left out, as reading a
        FilterSet's `.qs` does (the monolith's nested lists, e.g. an artist's albums, do that)."""
        applied: dict[str, ColumnElement] = {}
        errors: dict[str, list[str]] = {}
        for flt in self.filters:
            raw = params.get(flt.name)
            if raw is None or raw == "":
                continue
            try:
                condition = flt.condition(raw)
            except FilterValueError as exc:
                errors[flt.name] = [str(exc)]
                continue
            if condition is not None:
                applied[flt.name] = condition
        if errors and not lenient:
            raise ValidationError(errors)
        return applied

    async def get_object(self, session, model, pk: int, params: Mapping[str, str], name: str, selected=None):
        """DRF's get_object(): the filters in the query string apply to the lookup too; 404 otherwise.
        Returns the `model` instance, or only `selected` (e.g. `model.id`, no ORM object) if given."""
        stmt = select(model if selected is None else selected).where(model.id == pk, *self.conditions(params))
        obj = await session.scalar(stmt)
        if obj is None:
            raise not_found_for(name)
        return obj

    def names(self) -> Sequence[str]:
        return [f.name for f in self.filters]
