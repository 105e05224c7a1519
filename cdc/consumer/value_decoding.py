"""Turning JSON field values of Debezium events into Python values for a target column.

The connector uses decimal.handling.mode=string, time.precision.mode=isostring and
interval.handling.mode=string, so most values are readable strings. The numeric forms of the other
modes are accepted too (epoch days for dates; epoch micro/milli/nanoseconds for timestamps and
times, told apart by magnitude; {"scale","value"} for variable-scale decimals), so a connector
switched to a different mode does not break consumers. The target column's type decides, which
is why consumers reflect their tables instead of hard-coding fields."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from sqlalchemy import types as sqltypes

from cdc.consumer.envelope import PoisonEvent

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
EPOCH_DATE = dt.date(1970, 1, 1)
_ISO_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<years>-?\d+)Y)?(?:(?P<months>-?\d+)M)?(?:(?P<weeks>-?\d+)W)?(?:(?P<days>-?\d+)D)?"
    r"(?:T(?:(?P<hours>-?\d+)H)?(?:(?P<minutes>-?\d+)M)?(?:(?P<seconds>-?\d+(?:\.\d+)?)S)?)?$")

Converter = Callable[[Any], Any]


def _epoch_unit_seconds(value: int) -> float:
    """Epoch timestamps: nanoseconds > 1e17, microseconds > 1e14, milliseconds > 1e11, else seconds."""
    magnitude = abs(value)
    if magnitude > 10**17:
        return value / 1e9
    if magnitude > 10**14:
        return value / 1e6
    if magnitude > 10**11:
        return value / 1e3
    return float(value)


def to_decimal(value: Any) -> Decimal:
    if type(value) is str:        # decimal.handling.mode=string: the common case
        try:
            return Decimal(value)
        except InvalidOperation as exc:
            raise PoisonEvent("bad-decimal", repr(value)) from exc
    if isinstance(value, dict) and "value" in value and "scale" in value:   # VariableScaleDecimal
        unscaled = int.from_bytes(base64.b64decode(value["value"]), "big", signed=True)
        return Decimal(unscaled).scaleb(-int(value["scale"]))
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise PoisonEvent("bad-decimal", repr(value)) from exc


def to_datetime(value: Any, with_tz: bool) -> dt.datetime:
    if isinstance(value, (int, float)):
        parsed = EPOCH + dt.timedelta(seconds=_epoch_unit_seconds(int(value)))
    else:
        parsed = dt.datetime.fromisoformat(str(value))    # Python 3.11 reads the trailing Z
    if with_tz and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    if not with_tz and parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def to_date(value: Any) -> dt.date:
    if isinstance(value, int):
        if abs(value) > 10**6:     # a timestamp (connect mode for some types): take its date
            return to_datetime(value, True).date()
        return EPOCH_DATE + dt.timedelta(days=value)
    return dt.date.fromisoformat(str(value)[:10])


def to_time(value: Any) -> dt.time:
    if isinstance(value, int):
        micros = value // 1000 if abs(value) >= 86_400_000_000 else value   # nanos vs micros
        if abs(value) < 86_400_000:   # milliseconds (connect mode)
            micros = value * 1000
        return (dt.datetime.min + dt.timedelta(microseconds=micros)).time()
    text = str(value).replace("Z", "+00:00") if str(value).endswith("Z") else str(value)
    return dt.time.fromisoformat(text)


def to_interval(value: Any) -> dt.timedelta:
    if isinstance(value, (int, float)):
        return dt.timedelta(microseconds=value)
    match = _ISO_DURATION.match(str(value))
    if not match:
        raise PoisonEvent("bad-interval", repr(value))
    parts = {k: float(v) for k, v in match.groupdict().items() if v and k != "sign"}
    days = parts.get("years", 0) * 365.25 + parts.get("months", 0) * 30 + parts.get("weeks", 0) * 7 + parts.get("days", 0)
    delta = dt.timedelta(days=days, hours=parts.get("hours", 0), minutes=parts.get("minutes", 0),
                         seconds=parts.get("seconds", 0))
    return -delta if match.group("sign") else delta


def to_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def to_bytes(value: Any) -> bytes:
    return base64.b64decode(value) if isinstance(value, str) else bytes(value)


def converter_for(column_type: sqltypes.TypeEngine) -> Converter | None:
    """A converter for a column type, or None when the JSON value can be bound as it is."""
    if isinstance(column_type, sqltypes.Numeric) and not isinstance(column_type, sqltypes.Float):
        return to_decimal
    if isinstance(column_type, sqltypes.DateTime):
        with_tz = bool(getattr(column_type, "timezone", False))

        def datetime_value(value):
            if with_tz and type(value) is str:      # isostring mode, UTC with Z: the common case
                parsed = dt.datetime.fromisoformat(value)
                if parsed.tzinfo is not None:
                    return parsed
            return to_datetime(value, with_tz)
        return datetime_value
    if isinstance(column_type, sqltypes.Date):
        return to_date
    if isinstance(column_type, sqltypes.Time):
        return to_time
    if isinstance(column_type, sqltypes.Interval):
        return to_interval
    if isinstance(column_type, sqltypes.JSON):
        return to_json
    if isinstance(column_type, sqltypes.LargeBinary):
        return to_bytes
    if isinstance(column_type, sqltypes.Float):
        return lambda v: float(v)   # "NaN"/"Infinity" arrive as strings
    return None


def convert(converter: Converter | None, value: Any, column: str) -> Any:
    if value is None or converter is None:
        return value
    try:
        return converter(value)
    except PoisonEvent:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise PoisonEvent("bad-value", f"{column}={value!r}: {exc}") from exc
