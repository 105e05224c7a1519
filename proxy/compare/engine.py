"""Compare a legacy response with a candidate response under a compare profile.

Pure functions, no I/O: the proxy runs them on shadow traffic (in a worker process) and the parity
suite runs them in tests. The cheap cases are decided first (identical bytes, equal JSON after the
profile's normalisation); DeepDiff only runs when the documents really differ, to say where.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Optional

import orjson
from deepdiff import DeepDiff
from deepdiff.operator import BaseOperator

from proxy.compare.json_paths import ItemKey, render_field, render_location
from proxy.compare.profiles import CompareProfile

ABSENT = "<absent>"  # the field is missing on this side (distinct from JSON null)
PREVIEW_CHARS = 200


@dataclass(frozen=True, slots=True)
class ResponseSnapshot:
    """What is compared of one HTTP response. Header names are lower-case."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def from_raw(cls, status: int, raw_headers: Iterable[tuple[bytes, bytes]], body: bytes) -> "ResponseSnapshot":
        return cls(
            status,
            tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw_headers),
            body,
        )

    def header(self, name: str) -> Optional[str]:
        values = [v for k, v in self.headers if k == name]
        return ", ".join(values) if values else None


@dataclass(frozen=True, slots=True)
class Difference:
    field: str  # generalised location that reports aggregate on: `$.results[*].title`, `status`
    path: str  # concrete location: `$.results[id=7].title`
    kind: str  # status | header | changed | type_changed | added | removed | order | body
    legacy: Any = None
    candidate: Any = None

    def to_dict(self) -> dict:
        return {"field": self.field, "path": self.path, "kind": self.kind,
                "legacy": self.legacy, "candidate": self.candidate}

    @classmethod
    def from_dict(cls, data: dict) -> "Difference":
        return cls(data["field"], data["path"], data["kind"], data.get("legacy"), data.get("candidate"))


@dataclass(frozen=True, slots=True)
class Comparison:
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def matched(self) -> bool:
        return not self.differences

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(d.field for d in self.differences)

    def to_dict(self) -> dict:
        return {"matched": self.matched, "differences": [d.to_dict() for d in self.differences]}


def preview(value: Any) -> Any:
    """A JSON-able, bounded rendering of a value for records and reports."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        value = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    return value if len(value) <= PREVIEW_CHARS else value[:PREVIEW_CHARS] + "…"


def compare_responses(legacy: ResponseSnapshot, candidate: ResponseSnapshot, profile: CompareProfile) -> Comparison:
    """All differences between the two responses that the profile does not tolerate."""
    differences: list[Difference] = []
    if profile.compare_status and legacy.status != candidate.status:
        differences.append(Difference("status", "status", "status", legacy.status, candidate.status))
    for name in profile.headers:
        left, right = legacy.header(name), candidate.header(name)
        if left != right:
            differences.append(Difference(f"header:{name}", f"header:{name}", "header",
                                          ABSENT if left is None else left, ABSENT if right is None else right))
    if legacy.body != candidate.body:
        differences.extend(compare_bodies(_decoded_body(legacy), _decoded_body(candidate), profile))
    return Comparison(tuple(differences))


def compare_bodies(legacy_body: bytes, candidate_body: bytes, profile: CompareProfile) -> list[Difference]:
    if legacy_body == candidate_body:
        return []
    legacy_doc, candidate_doc = _json_or_none(legacy_body), _json_or_none(candidate_body)
    if legacy_doc is _NOT_JSON or candidate_doc is _NOT_JSON:
        return [Difference("body", "body", "body", preview(legacy_body), preview(candidate_body))]
    return compare_documents(legacy_doc, candidate_doc, profile)


def compare_documents(legacy_doc: Any, candidate_doc: Any, profile: CompareProfile) -> list[Difference]:
    """Field-by-field differences between two parsed JSON documents under the profile."""
    legacy_notes, candidate_notes = _Notes(), _Notes()
    left = _normalise(legacy_doc, (), profile, legacy_notes)
    right = _normalise(candidate_doc, (), profile, candidate_notes)
    differences = _missing_from_supersets(legacy_notes.supersets, candidate_notes.supersets)
    differences += _order_differences(legacy_notes.orders, candidate_notes.orders)
    if left == right:
        return differences
    tree = DeepDiff(left, right, view="tree", custom_operators=[_ToleranceOperator(profile)])
    for report_type, levels in tree.items():
        kind = _KINDS.get(report_type, report_type)
        for level in levels:
            location = tuple(level.path(output_format="list"))
            differences.append(Difference(
                render_field(location), render_location(location), kind,
                _side(level.t1), _side(level.t2),
            ))
    differences.sort(key=lambda d: d.path)
    return differences


_KINDS = {
    "values_changed": "changed",
    "type_changes": "type_changed",
    "dictionary_item_added": "added",
    "iterable_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_removed": "removed",
}

_NOT_JSON = object()


def _side(value: Any) -> Any:
    if type(value).__name__ == "NotPresent":
        return ABSENT
    return preview(value)


def _json_or_none(body: bytes) -> Any:
    if not body:
        return _NOT_JSON
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _NOT_JSON


def _decoded_body(response: ResponseSnapshot) -> bytes:
    encoding = (response.header("content-encoding") or "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            return zlib.decompress(response.body, 47)  # 47: gzip or zlib header, auto-detected
        except zlib.error:
            try:
                return zlib.decompress(response.body, -15)  # raw deflate, as some servers send it
            except zlib.error:
                return response.body
    return response.body


@dataclass(slots=True)
class _Notes:
    """What normalising one side leaves for the comparison of both: the key order of ordered keyed
    arrays, and each superset array as (its normalised mapping, whether it is the whole result)."""

    orders: dict[tuple, list] = field(default_factory=dict)
    supersets: dict[tuple, tuple[dict, bool]] = field(default_factory=dict)


def _normalise(value: Any, location: tuple, profile: CompareProfile, notes: _Notes, parent: Any = None) -> Any:
    """Drop ignored fields and turn keyed arrays into mappings keyed by `ItemKey`.

    Keyed arrays are then compared element by element whatever their order; their order is checked
    separately (unless the profile says it does not matter) so one moved element is reported as one
    `order` difference rather than as every element changing. `parent` is the object holding `value`
    (a superset array's total is a sibling field, read before `ignore` removes it)."""
    if isinstance(value, dict):
        ignored = profile.ignored
        return {
            key: _normalise(item, location + (key,), profile, notes, value)
            for key, item in value.items()
            if not (ignored and ignored.contains(location + (key,)))
        }
    if isinstance(value, list):
        superset = profile.superset_arrays
        rule = superset.value_for(location, profile.superset) if superset else None
        if rule is not None:
            keys = _element_keys(value, rule.key)
            if keys is not None:
                mapping = {key: _normalise(item, location + (key,), profile, notes) for key, item in zip(keys, value)}
                notes.supersets[location] = (mapping, _whole_result(value, parent, rule.total))
                return mapping
        keyed = profile.keyed_arrays
        key_field = keyed.value_for(location, profile.array_keys) if keyed else None
        if key_field is not None:
            keys = _element_keys(value, key_field)
            if keys is not None:
                if not (profile.unordered_arrays and profile.unordered_arrays.contains(location)):
                    notes.orders[location] = keys
                return {key: _normalise(item, location + (key,), profile, notes) for key, item in zip(keys, value)}
        items = [_normalise(item, location + (index,), profile, notes) for index, item in enumerate(value)]
        if profile.unordered_arrays and profile.unordered_arrays.contains(location):
            items.sort(key=lambda item: orjson.dumps(item, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
        return items
    return value


def _whole_result(items: list, parent: Any, total_field: Optional[str]) -> bool:
    """Whether a legacy array is its whole result: no total named, or a total not larger than it.
    A total that is missing or not a number cannot prove a page, so the array counts as whole."""
    if total_field is None or not isinstance(parent, dict):
        return True
    total = parent.get(total_field)
    if isinstance(total, bool) or not isinstance(total, int):
        return True
    return total <= len(items)


def _missing_from_supersets(legacy: dict, candidate: dict) -> list[Difference]:
    """Reduce each superset array pair (in place) to the elements on both sides, which are then
    compared in full, and report each legacy element the candidate lacks as `removed` (here, so it
    is one difference per element whatever DeepDiff makes of two mappings with little in common).
    The candidate's extra elements are not differences; nor are the legacy elements it lacks when
    the legacy array is one page of a larger result (they may be on another page)."""
    differences = []
    for location, (candidate_items, _) in candidate.items():
        if location not in legacy:
            continue  # not a keyed array on the legacy side: compared as usual
        legacy_items, whole = legacy[location]
        for key in [k for k in candidate_items if k not in legacy_items]:
            del candidate_items[key]
        for key in [k for k in legacy_items if k not in candidate_items]:
            if whole:
                element = location + (key,)
                differences.append(Difference(render_field(element), render_location(element), "removed",
                                              preview(legacy_items[key]), ABSENT))
            del legacy_items[key]
    return differences


def _element_keys(items: list, key_field: str) -> Optional[list[ItemKey]]:
    """`[ItemKey('id=1'), ...]`, or None when an element lacks the key or keys repeat (then the
    array is compared by position, which still reports every difference)."""
    keys = []
    for item in items:
        if not isinstance(item, dict) or key_field not in item:
            return None
        keys.append(ItemKey(f"{key_field}={item[key_field]}"))
    return keys if len(set(keys)) == len(keys) else None


def _order_differences(legacy_orders: dict, candidate_orders: dict) -> list[Difference]:
    differences = []
    for location, legacy_keys in legacy_orders.items():
        candidate_keys = candidate_orders.get(location)
        if candidate_keys is None:
            continue
        common = set(legacy_keys) & set(candidate_keys)
        left = [k for k in legacy_keys if k in common]
        right = [k for k in candidate_keys if k in common]
        if left != right:
            differences.append(Difference(render_field(location), render_location(location), "order",
                                          preview(left), preview(right)))
    return differences


class _ToleranceOperator(BaseOperator):
    """Numeric and timestamp tolerances of a profile, applied where DeepDiff meets those paths."""

    def __init__(self, profile: CompareProfile):
        super().__init__()
        self.profile = profile

    def match(self, level) -> bool:
        if not (self.profile.numeric_tolerance or self.profile.time_tolerance):
            return False
        location = tuple(level.path(output_format="list"))
        return self.profile.numeric_paths.contains(location) or self.profile.time_paths.contains(location)

    def give_up_diffing(self, level, diff_instance) -> bool:
        location = tuple(level.path(output_format="list"))
        profile = self.profile
        tolerance = profile.numeric_paths.value_for(location, profile.numeric_tolerance)
        if tolerance is not None:
            left, right = _as_number(level.t1), _as_number(level.t2)
            if left is not None and right is not None:
                return abs(left - right) <= Decimal(str(tolerance))
        tolerance = profile.time_paths.value_for(location, profile.time_tolerance)
        if tolerance is not None:
            left, right = _as_time(level.t1), _as_time(level.t2)
            if left is not None and right is not None:
                try:
                    return abs((left - right).total_seconds()) <= tolerance
                except TypeError:  # one side has a time zone and the other not: a real difference
                    return False
        return False  # not within tolerance: DeepDiff reports it as usual

    def normalize_value_for_hashing(self, parent, obj):
        return obj


def _as_number(value: Any) -> Optional[Decimal]:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, str)):
        try:
            return Decimal(str(value))  # decimals travel as strings in DRF responses
        except InvalidOperation:
            return None
    return None


def _as_time(value: Any) -> Optional[datetime]:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed
