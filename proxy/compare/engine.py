"""Compare a legacy response with a candidate response under a compare profile.

Pure functions, no I/O: the proxy runs them on shadow traffic (in a worker process) and the parity
suite runs them in tests. The cheap cases are decided first (identical bytes, equal JSON after the
profile's normalisation); DeepDiff only runs when the documents really differ, to say where.
"""
from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Optional, Union
from urllib.parse import parse_qs

import orjson
from deepdiff import DeepDiff
from deepdiff.operator import BaseOperator

from proxy.compare.json_paths import ItemKey, render_field, render_location
from proxy.compare.profiles import CompareProfile, SupersetRule

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
    # status | header | changed | type_changed | added | removed | order | body, and for superset
    # arrays: emptied (candidate array empty, legacy's not) | total_zero (candidate total 0, legacy's
    # not) | unmatched (a candidate-only element that does not match the query)
    kind: str
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
    # What the verdict rests on beyond "everything else equal": the superset checks that applied
    # (whole result or one page, query checks run or not), in words, for reports.
    checks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def matched(self) -> bool:
        return not self.differences

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(d.field for d in self.differences)

    def to_dict(self) -> dict:
        return {"matched": self.matched, "differences": [d.to_dict() for d in self.differences],
                "checks": list(self.checks)}


def preview(value: Any) -> Any:
    """A JSON-able, bounded rendering of a value for records and reports."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        value = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    return value if len(value) <= PREVIEW_CHARS else value[:PREVIEW_CHARS] + "…"


Query = Union[str, bytes, Mapping[str, Any], None]


def compare_responses(legacy: ResponseSnapshot, candidate: ResponseSnapshot, profile: CompareProfile,
                      query: Query = None) -> Comparison:
    """All differences between the two responses that the profile does not tolerate. `query` is
    the request's query string (or a parsed mapping); superset rules check hits against it."""
    differences: list[Difference] = []
    if profile.compare_status and legacy.status != candidate.status:
        differences.append(Difference("status", "status", "status", legacy.status, candidate.status))
    for name in profile.compared_headers:
        statuses = profile.header_statuses.get(name)
        if statuses is not None and legacy.status not in statuses:
            continue
        left, right = _header_value(legacy, name), _header_value(candidate, name)
        if left != right:
            differences.append(Difference(f"header:{name}", f"header:{name}", "header",
                                          ABSENT if left is None else left, ABSENT if right is None else right))
    checks: list[str] = []
    if legacy.body != candidate.body:
        differences.extend(_compare_bodies(_decoded_body(legacy), _decoded_body(candidate), profile, query, checks))
    return Comparison(tuple(differences), tuple(checks))


def candidate_failed(legacy_status: int, candidate_status: int) -> bool:
    """A candidate 5xx where legacy answered: an errored mirror, counted apart from mismatches."""
    return candidate_status >= 500 and legacy_status < 500


def _header_value(response: ResponseSnapshot, name: str) -> Any:
    """What is compared of a header: its text; the sorted names of the cookies set; the sorted
    tokens of a list-valued header (`vary` case-insensitively)."""
    if name == "set-cookie":
        names = sorted({v.split(";", 1)[0].split("=", 1)[0].strip() for k, v in response.headers if k == name})
        return names or None
    value = response.header(name)
    if value is None or name not in _LIST_HEADERS:
        return value
    tokens = [t.strip() for t in value.split(",") if t.strip()]
    return ", ".join(sorted({t.lower() if name == "vary" else t for t in tokens}))


_LIST_HEADERS = frozenset({"vary", "allow"})


def compare_bodies(legacy_body: bytes, candidate_body: bytes, profile: CompareProfile,
                   query: Query = None) -> list[Difference]:
    return _compare_bodies(legacy_body, candidate_body, profile, query, [])


def _compare_bodies(legacy_body: bytes, candidate_body: bytes, profile: CompareProfile, query: Query,
                    checks: list[str]) -> list[Difference]:
    if legacy_body == candidate_body:
        return []
    legacy_doc, candidate_doc = _json_or_none(legacy_body), _json_or_none(candidate_body)
    if legacy_doc is _NOT_JSON or candidate_doc is _NOT_JSON:
        return [Difference("body", "body", "body", preview(legacy_body), preview(candidate_body))]
    return _compare_documents(legacy_doc, candidate_doc, profile, query, checks)


def compare_documents(legacy_doc: Any, candidate_doc: Any, profile: CompareProfile,
                      query: Query = None) -> list[Difference]:
    """Field-by-field differences between two parsed JSON documents under the profile."""
    return _compare_documents(legacy_doc, candidate_doc, profile, query, [])


def _compare_documents(legacy_doc: Any, candidate_doc: Any, profile: CompareProfile, query: Query,
                       checks: list[str]) -> list[Difference]:
    legacy_notes, candidate_notes = _Notes(), _Notes()
    left = _normalise(legacy_doc, (), profile, legacy_notes)
    right = _normalise(candidate_doc, (), profile, candidate_notes)
    differences = _missing_from_supersets(legacy_notes.supersets, candidate_notes.supersets, query, checks)
    differences += _order_differences(legacy_notes.orders, candidate_notes.orders)
    if _same(left, right):
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


def _same(left: Any, right: Any) -> bool:
    """Equality of JSON values that also tells apart what Python's `==` merges: 1, 1.0 and true."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right))
    return bool(left == right)


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
    supersets: dict[tuple, "_SupersetSide"] = field(default_factory=dict)


@dataclass(slots=True)
class _SupersetSide:
    items: dict  # ItemKey -> normalised element
    raw: dict  # ItemKey -> element as sent (before `ignore`), for the query checks
    whole: bool  # the array is its whole result (no total, or a total not larger than the array)
    total: Any  # the sibling total's value, if the rule names one
    rule: SupersetRule


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
                total = parent.get(rule.total) if rule.total and isinstance(parent, dict) else None
                notes.supersets[location] = _SupersetSide(mapping, dict(zip(keys, value)),
                                                          _whole_result(value, parent, rule.total), total, rule)
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


def _missing_from_supersets(legacy: dict, candidate: dict, query: Query, checks: list[str]) -> list[Difference]:
    """Superset arrays: the checks one pair of arrays allows, then each pair is reduced (in place)
    to the elements on both sides, which are compared in full.

    - a candidate array that is empty while legacy's is not is `emptied`; a candidate total of 0
      while legacy's is not is `total_zero` (whatever page legacy's array is);
    - a candidate-only element that matches no query word in the rule's `match_fields` is
      `unmatched` (when the request's query is known); other candidate-only elements are fine;
    - a legacy element the candidate lacks is `removed` when the legacy array is the whole result
      (and, with `match_fields` and a known query, holds every query word as a whole word); when
      the legacy array is one page of a larger result, it may be on another page of the candidate.
    """
    differences = []
    for location, cand in candidate.items():
        if location not in legacy:
            continue  # not a keyed array on the legacy side: compared as usual
        leg = legacy[location]
        rule = leg.rule
        where = render_field(location)
        words = _query_words(query, rule.query_param)
        if leg.items and not cand.items:
            differences.append(Difference(render_field(location), where, "emptied",
                                          f"{len(leg.items)} elements", preview([])))
        if rule.total:
            total_location = location[:-1] + (rule.total,)
            if (_positive(leg.total) and isinstance(cand.total, int) and not isinstance(cand.total, bool)
                    and cand.total == 0):
                differences.append(Difference(render_field(total_location), render_location(total_location),
                                              "total_zero", leg.total, cand.total))
        checks.append(f"{where}: candidate not empty" + (f", {rule.total} not 0" if rule.total else "")
                      + " where legacy's are not")
        extra = [k for k in cand.items if k not in leg.items]
        if rule.match_fields and words is not None:
            checks.append(f"{where}: candidate-only elements match a query word in {', '.join(rule.match_fields)}")
            for key in extra:
                if not _element_matches(cand.raw[key], rule, words) and not _possibly_cut(cand.raw[key], rule):
                    element = location + (key,)
                    differences.append(Difference(render_field(element), render_location(element), "unmatched",
                                                  ABSENT, preview(cand.raw[key])))
        elif rule.match_fields:
            checks.append(f"{where}: candidate-only elements NOT checked against the query (query unknown)")
        for key in extra:
            del cand.items[key]
        missing = [k for k in leg.items if k not in cand.items]
        if rule.limit_param is not None:
            differences += _missing_under_cap(location, leg, cand, missing, rule, query, words, checks)
            continue
        if leg.whole:
            if rule.match_fields and words is not None:
                checks.append(f"{where}: whole legacy result: every legacy element holding all query words "
                              f"as whole words is required")
            else:
                checks.append(f"{where}: whole legacy result: every legacy element is required")
        else:
            checks.append(f"{where}: legacy page of a larger result: legacy elements missing from the "
                          f"candidate NOT checked (they may be on another page)")
        for key in missing:
            if leg.whole and (not rule.match_fields or words is None
                              or _element_has_words(leg.raw[key], rule, words)):
                element = location + (key,)
                differences.append(Difference(render_field(element), render_location(element), "removed",
                                              preview(leg.items[key]), ABSENT))
            del leg.items[key]
    return differences


def _missing_under_cap(location: tuple, leg, cand, missing: list, rule: SupersetRule, query: Query,
                       words: Optional[list[str]], checks: list[str]) -> list[Difference]:
    """Legacy elements the candidate lacks, for an array capped by a request parameter: a
    difference only where neither side reached the cap (the candidate had room) and the element
    matches the query."""
    where = render_field(location)
    cap = _query_int(query, rule.limit_param, rule.limit_default)
    room = len(leg.raw) < cap and len(cand.raw) < cap
    if room:
        checks.append(f"{where}: below the {rule.limit_param} cap on both sides: every legacy element "
                      f"matching the query is required")
    else:
        checks.append(f"{where}: at the {rule.limit_param} cap ({cap}): legacy elements missing from the "
                      f"candidate NOT checked (the candidate ranks its own)")
    differences = []
    for key in missing:
        if room and (words is None or _element_matches(leg.raw[key], rule, words)):
            element = location + (key,)
            differences.append(Difference(render_field(element), render_location(element), "removed",
                                          preview(leg.items[key]), ABSENT))
        del leg.items[key]
    return differences


def _query_int(query: Query, param: Optional[str], default: int) -> int:
    text = _query_value(query, param) if param is not None else None
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


_WORD = re.compile(r"[^\W_]+")


def _words(text: Any) -> list[str]:
    """Words as the search service analyses them: split on what is not a letter or digit,
    lower-cased, folded to ASCII."""
    if not isinstance(text, str):
        return []
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return _WORD.findall(folded)


def _query_value(query: Query, param: str) -> Optional[str]:
    """A parameter of the request's query string (or parsed mapping); None when unknown or absent."""
    if query is None:
        return None
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    if isinstance(query, str):
        values = parse_qs(query.lstrip("?"), keep_blank_values=True).get(param)
        return values[0] if values else None
    text = query.get(param)
    if isinstance(text, (list, tuple)):
        text = text[0] if text else None
    return text


def _query_words(query: Query, param: str) -> Optional[list[str]]:
    """The query's words, or None when the request's query is not known or lacks the parameter."""
    text = _query_value(query, param)
    if text is None:
        return None
    return list(dict.fromkeys(_words(text)))


def _field_words(element: Any, match_fields: list[str]) -> list[str]:
    found: list[str] = []
    for dotted in match_fields:
        value = element
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        found.extend(_words(value))
    return found


def _element_matches(element: Any, rule: SupersetRule, words: list[str]) -> bool:
    """Some query word is a word of one of the match fields, or the prefix of one (or, with typo
    tolerance, as many edits away as the search service allows)."""
    if not words:
        return True  # a query without words (punctuation only) constrains nothing
    candidates = _field_words(element, rule.match_fields)
    for word in words:
        for other in candidates:
            if other.startswith(word):
                return True
            if rule.typo_tolerance and _within_typos(word, other):
                return True
    return False


def _possibly_cut(element: Any, rule: SupersetRule) -> bool:
    """The element holds a cut field at its full length: the words it matched may lie past the cut."""
    return isinstance(element, dict) and any(
        isinstance(element.get(name), str) and len(element[name]) >= length for name, length in rule.cut_fields.items())


def _element_has_words(element: Any, rule: SupersetRule, words: list[str]) -> bool:
    present = set(_field_words(element, rule.match_fields))
    return bool(words) and all(word in present for word in words)


def _within_typos(word: str, other: str) -> bool:
    allowed = 0 if len(word) < 4 else 1 if len(word) < 8 else 2
    if not allowed:
        return False
    return _edits(word, other, allowed) <= allowed or _edits(word, other[:len(word)], allowed) <= allowed


def _edits(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count one), cut short above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _element_keys(items: list, key_field: str | tuple[str, ...]) -> Optional[list[ItemKey]]:
    """`[ItemKey('id=1'), ...]` (`type=track,id=1` for a key of several fields), or None when an
    element lacks the key or keys repeat (then the array is compared by position, which still
    reports every difference)."""
    fields = (key_field,) if isinstance(key_field, str) else tuple(key_field)
    keys = []
    for item in items:
        if not isinstance(item, dict) or any(f not in item for f in fields):
            return None
        keys.append(ItemKey(",".join(f"{f}={item[f]}" for f in fields)))
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
        """True (no difference) only for a different value of the SAME format within tolerance:
        numbers against numbers of the same JSON type, decimal strings with as many decimals,
        timestamps written alike (same fraction digits, same zone designator)."""
        location = tuple(level.path(output_format="list"))
        profile = self.profile
        tolerance = profile.numeric_paths.value_for(location, profile.numeric_tolerance)
        if tolerance is not None:
            left, right = _as_number(level.t1), _as_number(level.t2)
            if left is not None and right is not None and _number_format(level.t1) == _number_format(level.t2):
                return abs(left - right) <= Decimal(str(tolerance))
        tolerance = profile.time_paths.value_for(location, profile.time_tolerance)
        if tolerance is not None:
            left_time, right_time = _as_time(level.t1), _as_time(level.t2)
            if (left_time is not None and right_time is not None
                    and _time_format(level.t1) == _time_format(level.t2)):
                try:
                    return abs((left_time - right_time).total_seconds()) <= tolerance
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


_DECIMAL = re.compile(r"-?\d+(?:\.(\d+))?")
_ZONE = re.compile(r"(Z|[+-]\d\d(?::?\d\d)?)$")


def _number_format(value: Any) -> Any:
    """Numbers keep their JSON type (int or float); decimal strings their count of decimals."""
    if isinstance(value, str):
        match = _DECIMAL.fullmatch(value)
        return ("decimal", len(match.group(1) or "")) if match else None
    return type(value).__name__


def _time_format(value: str) -> tuple[str, str]:
    """A timestamp's shape: digits masked, and its zone designator as written."""
    zone = _ZONE.search(value)
    return re.sub(r"\d", "9", value), zone.group(1) if zone else ""
