"""Compare profiles: which differences between a legacy and a candidate response are tolerated.

A profile lists only normalisations the compatibility contract allows for a route; everything it
does not name must be equal (status, the listed headers, the JSON body field by field).
Profiles live in the proxy's route table file under `compare_profiles:`; the parity suite loads the
same file with `load_profiles_file()`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from proxy.compare.json_paths import PathSet, parse_pattern
from proxy.compare.noise import NoiseSettings

# Compared unless a profile removes them: what clients and caches act on. `set-cookie` compares the
# NAMES of the cookies set (their values are tokens and timestamps), `vary` and `allow` as sets.
DEFAULT_HEADERS = ("content-type", "location", "allow", "www-authenticate", "vary", "set-cookie")


def _check_paths(paths):
    for path in paths:
        parse_pattern(path)
    return paths


class SupersetRule(BaseModel):
    """An array the candidate may extend: every legacy element (matched by `key`) must be present,
    elements only the candidate has are not differences when they match the query, order is not
    compared. Whatever the page, a candidate array that is empty while legacy's is not, or whose
    total is 0 while legacy's is not, is a difference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Union[str, tuple[str, ...]] = Field(
        description="the field identifying an element, or several (`[type, id]`) where kinds share ids")
    total: Optional[str] = Field(
        default=None,
        description="sibling field holding the size of the whole legacy result (e.g. a DRF page's `count`); "
                    "when it exceeds the array's length the legacy array is one page of a larger result, so "
                    "a legacy element the candidate lacks may be on another page and is not a difference",
    )
    match_fields: list[str] = Field(
        default_factory=list,
        description="fields of an element (dotted: `artist.name`) a candidate-only element must match the query "
                    "in: some query word is a word, or the prefix of a word, of one of them (case and accents "
                    "ignored). Also: a legacy element the candidate lacks from a whole legacy result is only a "
                    "difference when it holds every query word as a whole word in these fields",
    )
    cut_fields: dict[str, int] = Field(
        default_factory=dict,
        description="match fields that carry only the first N characters of the text the search looked in "
                    "(a post's `excerpt: 200`): a candidate-only element matching in none of the match fields "
                    "but holding such a field at full length may match past the cut, so it is not checked")
    query_param: str = Field("q", description="the request's query parameter holding the search text")
    limit_param: Optional[str] = Field(
        default=None,
        description="a query parameter capping the array's length (e.g. suggestions' `limit`): an array "
                    "shorter than the cap is its whole result; at the cap it is one page. A legacy element "
                    "the candidate lacks is then a difference only when neither side reached the cap and the "
                    "element matches the query (as `match_fields` says) - the candidate had room for it")
    limit_default: int = Field(10, ge=1, description="the cap when the request does not name `limit_param`")
    typo_tolerance: bool = Field(
        False, description="a query word also matches a word one edit away (words of 4-7 characters) or two "
                           "(8 and more), the search service's typo tolerance")


class CompareProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    description: str = ""
    compare_status: bool = True
    headers: list[str] = Field(
        default_factory=lambda: list(DEFAULT_HEADERS),
        description="response headers that must be equal (case-insensitive names); `set-cookie` compares "
                    "the names of the cookies set, `vary` and `allow` compare as sets of tokens",
    )
    headers_ignore: list[str] = Field(
        default_factory=list, description="headers removed from `headers` (e.g. inherited defaults)")
    header_statuses: dict[str, list[int]] = Field(
        default_factory=dict,
        description="header -> legacy statuses on which it is compared (e.g. allow: [405]); headers not "
                    "named are compared on every answer")
    noise: NoiseSettings = Field(default_factory=NoiseSettings,
                                 description="the noise model's thresholds, window and minimum sample")
    ignore: list[str] = Field(default_factory=list, description="JSON paths removed before comparing")
    array_keys: dict[str, str] = Field(
        default_factory=dict, description="JSON path of an array -> field identifying its elements"
    )
    unordered: list[str] = Field(
        default_factory=list, description="arrays (JSON paths) whose element order is not compared"
    )
    superset: dict[str, SupersetRule] = Field(
        default_factory=dict,
        description="JSON path of an array -> its key field (or {key, total}): the candidate's array must "
                    "contain every legacy element; extra candidate elements and order are not compared",
    )
    numeric_tolerance: dict[str, float] = Field(
        default_factory=dict, description="JSON path -> largest absolute difference tolerated"
    )
    time_tolerance: dict[str, float] = Field(
        default_factory=dict, description="JSON path of an ISO-8601 timestamp -> seconds tolerated"
    )

    _check_ignore = field_validator("ignore", "unordered")(_check_paths)

    @field_validator("array_keys", "numeric_tolerance", "time_tolerance")
    @classmethod
    def _check_mapping_paths(cls, value: dict):
        _check_paths(value.keys())
        return value

    @field_validator("superset", mode="before")
    @classmethod
    def _superset_rules(cls, value):
        if not isinstance(value, Mapping):
            return value
        _check_paths(value.keys())
        return {path: {"key": rule} if isinstance(rule, str) else rule for path, rule in value.items()}

    @field_validator("headers", "headers_ignore")
    @classmethod
    def _lower_headers(cls, value: list[str]) -> list[str]:
        return [h.strip().lower() for h in value]

    @field_validator("header_statuses")
    @classmethod
    def _lower_header_statuses(cls, value: dict) -> dict:
        return {name.strip().lower(): statuses for name, statuses in value.items()}

    @property
    def compared_headers(self) -> list[str]:
        return [h for h in dict.fromkeys(self.headers) if h not in self.headers_ignore]

    @model_validator(mode="after")
    def _tolerances_positive(self):
        for path, tolerance in {**self.numeric_tolerance, **self.time_tolerance}.items():
            if tolerance < 0:
                raise ValueError(f"tolerance for {path} must be >= 0")
        return self

    # Compiled once per profile; profiles are frozen so the sets never go stale.
    _ignored: PathSet = PrivateAttr()
    _keyed: PathSet = PrivateAttr()
    _unordered: PathSet = PrivateAttr()
    _superset: PathSet = PrivateAttr()
    _numeric: PathSet = PrivateAttr()
    _time: PathSet = PrivateAttr()

    def model_post_init(self, __context) -> None:
        self._ignored = PathSet(self.ignore)
        self._keyed = PathSet(self.array_keys)
        self._unordered = PathSet(self.unordered)
        self._superset = PathSet(self.superset)
        self._numeric = PathSet(self.numeric_tolerance)
        self._time = PathSet(self.time_tolerance)

    @property
    def ignored(self) -> PathSet:
        return self._ignored

    @property
    def keyed_arrays(self) -> PathSet:
        return self._keyed

    @property
    def unordered_arrays(self) -> PathSet:
        return self._unordered

    @property
    def superset_arrays(self) -> PathSet:
        return self._superset

    @property
    def numeric_paths(self) -> PathSet:
        return self._numeric

    @property
    def time_paths(self) -> PathSet:
        return self._time


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = [*merged[key], *[v for v in value if v not in merged[key]]]
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def load_profiles(raw: Optional[Mapping[str, Any]]) -> dict[str, CompareProfile]:
    """Build profiles from the `compare_profiles:` mapping; `extends: other` inherits (lists and
    mappings are merged, scalars overridden). A `default` profile always exists."""
    raw = {name: dict(body or {}) for name, body in (raw or {}).items()}
    raw.setdefault("default", {})
    resolved: dict[str, dict] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> dict:
        if name in resolved:
            return resolved[name]
        if name not in raw:
            raise ValueError(f"compare profile {chain[-1]!r} extends unknown profile {name!r}")
        if name in chain:
            raise ValueError(f"compare profiles extend each other in a loop: {' -> '.join(chain + (name,))}")
        body = dict(raw[name])
        parent = body.pop("extends", None)
        if parent:
            inherited = {k: v for k, v in resolve(parent, chain + (name,)).items() if k != "description"}
            body = _merge(inherited, body)
        resolved[name] = body
        return body

    profiles = {}
    for name in raw:
        body = resolve(name, ())
        body.pop("name", None)
        profiles[name] = CompareProfile(name=name, **body)
    return profiles


def load_profiles_file(path: str | Path) -> dict[str, CompareProfile]:
    """Profiles from a YAML file: the `compare_profiles:` section of a route table, or a file that
    holds only profiles."""
    from ruamel.yaml import YAML

    document = YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8")) or {}
    return load_profiles(document.get("compare_profiles", document))
