"""DRF's wire formats, so a service's JSON parses to exactly what the monolith's does."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional


def drf_datetime(value: Optional[dt.datetime]) -> Optional[str]:
    """DRF DateTimeField with USE_TZ and TIME_ZONE=UTC: ISO 8601 in UTC, `Z` suffix, microseconds
    only when non-zero (that is what `datetime.isoformat()` does)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    text = value.isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def drf_date(value: Optional[dt.date]) -> Optional[str]:
    return None if value is None else value.isoformat()


_QUANTS: dict[int, Decimal] = {}


def drf_decimal(value: Optional[Decimal], decimal_places: int) -> Optional[str]:
    """DRF DecimalField with COERCE_DECIMAL_TO_STRING: quantized to the field's places, as a string."""
    if value is None:
        return None
    quant = _QUANTS.get(decimal_places)
    if quant is None:
        quant = _QUANTS[decimal_places] = Decimal(1).scaleb(-decimal_places)
    return format(Decimal(value).quantize(quant, rounding=ROUND_HALF_UP), "f")
