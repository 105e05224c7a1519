"""DRF serializer-field validation, for services that accept the monolith's write payloads.

Each field reproduces its rest_framework.fields counterpart as the monolith's ModelSerializers build it:
the same checks in the same order and DRF's own messages. `validate(data, fields, partial)` returns the
cleaned values or raises ValidationError({"field": ["message", ...]}) with every field's errors."""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal, DecimalException, ROUND_HALF_EVEN, localcontext
from typing import Any, Awaitable, Callable, Mapping, Optional, Sequence
from urllib.parse import urlsplit

from services.common.errors import ValidationError

MAX_STRING_LENGTH = 1000


class Invalid(Exception):
    def __init__(self, *messages: str):
        self.messages = list(messages)
        super().__init__(messages)


class Skip(Exception):
    pass


_EMPTY = object()


@dataclass
class Field:
    name: str
    required: bool = True
    allow_null: bool = False
    default: Any = _EMPTY

    def run(self, data: Any, partial: bool) -> Any:
        """Field.run_validation: empty/None handling, then to_internal_value, then validators."""
        if data is _EMPTY:
            if partial:
                raise Skip()
            if self.required:
                raise Invalid("This field is required.")
            if self.default is _EMPTY:
                raise Skip()
            return self.default
        if data is None:
            if not self.allow_null:
                raise Invalid("This field may not be null.")
            return None
        value = self.to_internal(data)
        errors = self.check(value)
        if errors:
            raise Invalid(*errors)
        return value

    def to_internal(self, data: Any) -> Any:
        return data

    def check(self, value: Any) -> list[str]:
        return []


@dataclass
class CharField(Field):
    max_length: Optional[int] = None
    allow_blank: bool = False
    extra_check: Optional[Callable[[str], Optional[str]]] = None   # e.g. URL or slug validators

    def run(self, data: Any, partial: bool) -> Any:
        if data is not _EMPTY and data is not None and (data == "" or str(data).strip() == ""):
            if not self.allow_blank:
                raise Invalid("This field may not be blank.")
            return ""
        return super().run(data, partial)

    def to_internal(self, data: Any) -> str:
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            raise Invalid("Not a valid string.")
        return str(data).strip()

    def check(self, value: str) -> list[str]:
        errors = []
        if self.max_length is not None and len(value) > self.max_length:
            errors.append(f"Ensure this field has no more than {self.max_length} characters.")
        if "\x00" in value:
            errors.append("Null characters are not allowed.")
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            errors.append("Surrogate characters are not allowed: "
                          + next(f"U+{ord(ch):X}" for ch in value if 0xD800 <= ord(ch) <= 0xDFFF) + ".")
        if self.extra_check is not None:
            problem = self.extra_check(value)
            if problem:
                errors.append(problem)
        return errors


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def slug_check(value: str) -> Optional[str]:
    if not _SLUG.match(value):
        return 'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'
    return None


# django.core.validators.URLValidator (Django 5.2), which DRF's URLField uses.
_UL = "\u00a1-\uffff"
_IPV4 = (r"(?:0|25[0-5]|2[0-4][0-9]|1[0-9]?[0-9]?|[1-9][0-9]?)"
         r"(?:\.(?:0|25[0-5]|2[0-4][0-9]|1[0-9]?[0-9]?|[1-9][0-9]?)){3}")
_IPV6 = r"\[[0-9a-f:.]+\]"
_HOSTNAME = r"[a-z" + _UL + r"0-9](?:[a-z" + _UL + r"0-9-]{0,61}[a-z" + _UL + r"0-9])?"
_DOMAIN = r"(?:\.(?!-)[a-z" + _UL + r"0-9-]{1,63}(?<!-))*"
_TLD = r"\.(?!-)(?:[a-z" + _UL + "-]{2,63}|xn--[a-z0-9]{1,59})(?<!-)\\.?"
_HOST = "(" + _HOSTNAME + _DOMAIN + _TLD + "|localhost)"
_URL = re.compile(
    r"^(?:[a-z0-9.+-]*)://(?:[^\s:@/]+(?::[^\s:@/]*)?@)?(?:" + _IPV4 + "|" + _IPV6 + "|" + _HOST + ")"
    r"(?::[0-9]{1,5})?(?:[/?#][^\s]*)?\Z", re.IGNORECASE,
)


def url_check(value: str) -> Optional[str]:
    bad = "Enter a valid URL."
    if len(value) > 2048 or set("\t\r\n") & set(value):
        return bad
    if value.split("://")[0].lower() not in ("http", "https", "ftp", "ftps"):
        return bad
    try:
        parts = urlsplit(value)
    except ValueError:
        return bad
    if not _URL.match(value):
        return bad
    if parts.hostname is None or len(parts.hostname) > 253:
        return bad
    return None


_DECIMAL_TAIL = re.compile(r"\.0*\s*$")


@dataclass
class IntegerField(Field):
    min_value: Optional[int] = None
    max_value: Optional[int] = None

    def to_internal(self, data: Any) -> int:
        if isinstance(data, str) and len(data) > MAX_STRING_LENGTH:
            raise Invalid("String value too large.")
        try:
            return int(_DECIMAL_TAIL.sub("", str(data)))
        except (ValueError, TypeError):
            raise Invalid("A valid integer is required.")

    def check(self, value) -> list[str]:
        return _bounds(value, self.min_value, self.max_value)


def _bounds(value, min_value, max_value) -> list[str]:
    errors = []
    if max_value is not None and value > max_value:
        errors.append(f"Ensure this value is less than or equal to {max_value}.")
    if min_value is not None and value < min_value:
        errors.append(f"Ensure this value is greater than or equal to {min_value}.")
    return errors


@dataclass
class FloatField(Field):
    min_value: Optional[float] = None
    max_value: Optional[float] = None

    def to_internal(self, data: Any) -> float:
        if isinstance(data, str) and len(data) > MAX_STRING_LENGTH:
            raise Invalid("String value too large.")
        try:
            value = float(data)
        except (TypeError, ValueError):
            raise Invalid("A valid number is required.")
        except OverflowError:
            raise Invalid("Integer value too large to convert to float")
        if not math.isfinite(value):
            raise Invalid("A valid number is required.")
        return value

    def check(self, value) -> list[str]:
        return _bounds(value, self.min_value, self.max_value)


@dataclass
class DecimalField(Field):
    max_digits: int = 8
    decimal_places: int = 2
    min_value: Optional[Decimal] = None
    max_value: Optional[Decimal] = None

    def to_internal(self, data: Any) -> Decimal:
        text = str(data).strip()
        if len(text) > MAX_STRING_LENGTH:
            raise Invalid("String value too large.")
        try:
            value = Decimal(text)
        except DecimalException:
            raise Invalid("A valid number is required.")
        if not value.is_finite():
            raise Invalid("A valid number is required.")
        self._precision(value)
        with localcontext() as ctx:
            ctx.prec = self.max_digits
            return value.quantize(Decimal(1).scaleb(-self.decimal_places), rounding=ROUND_HALF_EVEN)

    def _precision(self, value: Decimal) -> None:
        # rest_framework.fields.DecimalField.validate_precision
        sign, digittuple, exponent = value.as_tuple()
        if not isinstance(exponent, int):      # 'n', 'N', 'F': NaN/Infinity, rejected before this
            raise Invalid("A valid number is required.")
        if exponent >= 0:
            total_digits, whole_digits, decimals = len(digittuple) + exponent, len(digittuple) + exponent, 0
        elif len(digittuple) > abs(exponent):
            total_digits, whole_digits, decimals = len(digittuple), len(digittuple) - abs(exponent), abs(exponent)
        else:
            total_digits, whole_digits, decimals = abs(exponent), 0, abs(exponent)
        if total_digits > self.max_digits:
            raise Invalid(f"Ensure that there are no more than {self.max_digits} digits in total.")
        if decimals > self.decimal_places:
            raise Invalid(f"Ensure that there are no more than {self.decimal_places} decimal places.")
        if whole_digits > self.max_digits - self.decimal_places:
            raise Invalid("Ensure that there are no more than "
                          f"{self.max_digits - self.decimal_places} digits before the decimal point.")

    def check(self, value) -> list[str]:
        return _bounds(value, self.min_value, self.max_value)


_DATE_RE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")


@dataclass
class DateField(Field):
    def to_internal(self, data: Any) -> dt.date:
        bad = Invalid("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")
        if not isinstance(data, str):
            raise bad
        try:
            return dt.date.fromisoformat(data)            # django.utils.dateparse.parse_date
        except ValueError:
            match = _DATE_RE.match(data)
            if match:
                try:
                    return dt.date(**{k: int(v) for k, v in match.groupdict().items()})
                except ValueError:
                    pass
        raise bad


@dataclass
class PrimaryKeyField(Field):
    """PrimaryKeyRelatedField: `exists(pk)` answers whether the row exists."""

    exists: Optional[Callable[[int], Awaitable[bool]]] = None

    def to_internal(self, data: Any) -> Any:
        if isinstance(data, bool):
            raise Invalid("Incorrect type. Expected pk value, received bool.")
        try:
            if isinstance(data, (dict, list)):
                raise TypeError
            return int(data), data
        except (TypeError, ValueError):
            raise Invalid(f"Incorrect type. Expected pk value, received {type(data).__name__}.")


async def validate(data: Any, fields: Sequence[Field], partial: bool = False,
                   field_hooks: Optional[Mapping[str, Callable[[Any], Awaitable[Any]]]] = None) -> dict:
    """Serializer.to_internal_value: every field in declaration order; `field_hooks` are the
    serializer's `validate_<field>` methods (async, may raise Invalid or any APIError)."""
    if not isinstance(data, Mapping):
        raise ValidationError({"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {_type_name(data)}."]})
    values: dict = {}
    errors: dict = {}
    hooks = field_hooks or {}
    for fld in fields:
        try:
            value = fld.run(data.get(fld.name, _EMPTY), partial)
            if isinstance(fld, PrimaryKeyField) and value is not None:
                pk, raw = value
                missing = Invalid(f'Invalid pk "{raw}" - object does not exist.')
                if not (-(2**63) <= pk < 2**63):
                    raise missing
                exists = fld.exists
                if exists is None:
                    raise TypeError(f"PrimaryKeyField {fld.name!r} has no exists() check")
                if not await exists(pk):
                    raise missing
                value = pk
            if fld.name in hooks:
                value = await hooks[fld.name](value)
            values[fld.name] = value
        except Skip:
            continue
        except Invalid as exc:
            errors[fld.name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return values


def _type_name(data: Any) -> str:
    return {type(None): "NoneType"}.get(type(data), type(data).__name__)
