"""Column values as they arrive from Debezium (JSON converter) or from a snapshot read with psycopg,
turned into the Python types the documents are rendered from.

Debezium's encodings depend on the connector's settings, so every decoder accepts all of them:
dates as days since the epoch (`io.debezium.time.Date`) or ISO strings; timestamps with a time zone as
ISO strings (`ZonedTimestamp`), without one as epoch micro/milliseconds; decimals as strings
(`decimal.handling.mode=string`), floats (`double`) or base64 big-endian unscaled bytes (`precise`).
"""
from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

EPOCH = dt.date(1970, 1, 1)
EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def as_date(value: Any) -> Optional[dt.date]:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, int):
        return EPOCH + dt.timedelta(days=value)
    return dt.date.fromisoformat(str(value)[:10])


def as_datetime(value: Any) -> Optional[dt.datetime]:
    """An aware UTC datetime. Integers are epoch microseconds (MicroTimestamp) unless they are too
    small to be (then milliseconds, `time.precision.mode=connect`)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, (int, float)):
        micros = value if abs(value) > 10**14 else value * 1000
        return EPOCH_UTC + dt.timedelta(microseconds=int(micros))
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(_trim_fraction(text))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _trim_fraction(text: str) -> str:
    """Debezium prints nanoseconds (up to 9 fraction digits); Python parses at most 6."""
    dot = text.find(".")
    if dot < 0:
        return text
    end = dot + 1
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[: min(end, dot + 7)] + text[end:]


def as_decimal(value: Any, scale: int) -> Optional[Decimal]:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, dict):  # VariableScaleDecimal {"scale", "value"}
        return as_decimal(value["value"], int(value["scale"]))
    text = str(value)
    try:
        return Decimal(text)
    except InvalidOperation:
        raw = base64.b64decode(text)
        return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale)


def as_float(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "t", "1")
    return bool(value)
