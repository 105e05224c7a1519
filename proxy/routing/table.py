"""The route table: named routes (path pattern + methods) each with a mode, a target upstream and
a compare profile; the upstreams they name; the compare profiles. Loaded from one YAML file,
validated as a whole: a file with any error produces no table at all (the caller keeps the old one).
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from proxy.compare.profiles import CompareProfile, load_profiles

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9\-_]*$")
_METHOD = re.compile(r"^[A-Z]+$")
_ENV = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


class Mode(str, Enum):
    LEGACY = "legacy"  # the monolith answers
    SHADOW = "shadow"  # the monolith answers; the target gets a copy and the answers are compared
    CANARY = "canary"  # `percent` of users (sticky) get the target, the rest the monolith
    NEW = "new"  # the target answers; safe methods may fall back to the monolith
    RETIRED = "retired"  # the target answers; the monolith code is gone, so no fallback


SERVED_BY_TARGET = (Mode.CANARY, Mode.NEW, Mode.RETIRED)
WRITES_TO_TARGET = (Mode.NEW, Mode.RETIRED)  # a write_owner route in these modes: the service owns the writes


class RouteTableError(ValueError):
    """The file cannot become a route table; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakerSpec(_Strict):
    failures: int = Field(5, ge=1, description="consecutive failures that open the breaker")
    reset_after: float = Field(30.0, gt=0, description="seconds open before one trial call")
    failure_statuses: list[int] = Field(default_factory=lambda: [502, 503, 504])


class CdcSpec(_Strict):
    """The upstream is fed by CDC from the monolith's database: shadow comparisons wait for it
    (proxy/shadow/cdc_wait.py, docs/proxy.md "CDC-aware shadowing")."""

    status_path: str = Field("/internal/sync-status", description="GET answering {position: {lsn_int, tables}}")
    wait: float = Field(2.0, ge=0, le=60, description="seconds a mirror waits for the upstream to apply "
                                                      "legacy's WAL position; then `lagging`")
    poll_interval: float = Field(0.1, gt=0, le=10, description="seconds between polls while mirrors wait")

    @field_validator("status_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"cdc.status_path must start with '/', got {value!r}")
        return value


class UpstreamSpec(_Strict):
    url: str
    health_path: str = "/healthz"
    connect_timeout: float = Field(2.0, gt=0)
    read_timeout: float = Field(30.0, gt=0, description="seconds to wait for each read from the upstream")
    max_connections: int = Field(256, ge=1)
    retries: int = Field(1, ge=0, le=3, description="retries where safe (idempotent, nothing received)")
    breaker: Optional[BreakerSpec] = Field(default_factory=BreakerSpec)
    cdc: Optional[CdcSpec] = Field(None, description="CDC-fed from the monolith: shadow mirrors wait for it")

    @field_validator("url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        value = _expand_env(value).rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream url must be http(s)://host[:port], got {value!r}")
        if parts.path or parts.query:
            raise ValueError(f"upstream url must not have a path or query, got {value!r}")
        return value


class ShadowSpec(_Strict):
    sample: float = Field(1.0, ge=0, le=1, description="share of requests mirrored to the target")
    noise_sample: float = Field(0.1, ge=0, le=1, description="share of mirrored safe requests also sent to legacy twice")
    unsafe_methods: bool = Field(False, description="also mirror POST/PUT/PATCH/DELETE (the target really writes)")
    timeout: float = Field(10.0, gt=0)
    cdc_wait: Optional[float] = Field(None, ge=0, le=60, description="overrides the target's cdc.wait; 0: compare "
                                                                      "without waiting")
    cdc_tables: Optional[list[str]] = Field(None, min_length=1, description="monolith tables this route reads "
                                                                             "(the target's position for them); "
                                                                             "absent: all the target's tables")

    @field_validator("cdc_tables")
    @classmethod
    def _tables(cls, value):
        for table in value or ():
            if not re.match(r"^[a-z_][a-z0-9_]*$", table):
                raise ValueError(f"cdc_tables: {table!r} is not a table name (lower-case, digits, '_')")
        return value


class CorpusSpec(_Strict):
    sample: float = Field(0.0, ge=0, le=1, description="share of this route's requests recorded into the "
                                                        "regression corpus (scrubbed; proxy/corpus/)")


class CanarySettings(_Strict):
    cookies: list[str] = Field(default_factory=lambda: ["vobe_cid", "sessionid"],
                               description="cookies identifying anonymous clients, in order of preference")


class RouteSpec(_Strict):
    name: str
    path: str = Field(description="regular expression matched at the start of the request path")
    methods: Optional[list[str]] = Field(None, description="upper-case methods; absent means all")
    mode: Mode = Mode.LEGACY
    percent: Optional[float] = Field(None, ge=0, le=100, description="canary only: share of users on the target")
    target: Optional[str] = None
    compare: str = "default"
    shadow: ShadowSpec = Field(default_factory=ShadowSpec)
    corpus: CorpusSpec = Field(default_factory=CorpusSpec)
    fallback: bool = Field(True, description="new/canary: safe methods go to legacy when the target fails")
    max_body_bytes: Optional[int] = Field(None, ge=0)
    write_owner: Optional[str] = Field(None, description="the domain whose writes this route carries: one writer "
                                                         "at a time, handed over with the flip (routing/handover.py)")

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"route name {value!r} must be lower-case letters, digits, '-' or '_'")
        return value

    @field_validator("path")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"path {value!r} is not a valid regular expression: {exc}") from None
        return value

    @field_validator("methods")
    @classmethod
    def _methods(cls, value):
        if value is None:
            return None
        upper = [m.upper() for m in value]
        for method in upper:
            if not _METHOD.match(method):
                raise ValueError(f"invalid HTTP method {method!r}")
        return upper

    @model_validator(mode="after")
    def _mode_needs(self):
        if self.mode == Mode.CANARY and self.percent is None:
            raise ValueError("mode canary needs `percent` (0-100)")
        if self.mode != Mode.CANARY and self.percent is not None:
            raise ValueError(f"`percent` only applies to mode canary, not {self.mode.value}")
        if self.mode != Mode.LEGACY and not self.target:
            raise ValueError(f"mode {self.mode.value} needs a `target` upstream")
        if self.write_owner is not None:
            if not _NAME.match(self.write_owner):
                raise ValueError(f"write_owner {self.write_owner!r} must be a domain name (lower-case letters, "
                                 f"digits, '-' or '_')")
            if not self.target:
                raise ValueError("write_owner needs a `target` upstream (the service that takes the writes over)")
            one_writer = (f"route {self.name!r} carries {self.write_owner} writes, which have one writer at a time")
            if self.mode == Mode.CANARY:
                raise ValueError(f"{one_writer}; canary would make two (flip it to new: the writes are handed over "
                                 f"in the same step)")
            if self.shadow.unsafe_methods:
                raise ValueError(f"{one_writer}; shadow.unsafe_methods would make the target write too")
        return self


class RouteTableDocument(_Strict):
    version: int = 1
    legacy: str = Field("legacy", description="name of the monolith's upstream")
    upstreams: dict[str, UpstreamSpec]
    routes: list[RouteSpec]
    canary: CanarySettings = Field(default_factory=CanarySettings)
    compare_profiles: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self):
        if self.version != 1:
            raise ValueError(f"unsupported route table version {self.version}")
        if self.legacy not in self.upstreams:
            raise ValueError(f"legacy upstream {self.legacy!r} is not defined under upstreams")
        seen = set()
        for route in self.routes:
            if route.name in seen:
                raise ValueError(f"route name {route.name!r} is used twice")
            seen.add(route.name)
            if route.target and route.target not in self.upstreams:
                raise ValueError(f"route {route.name!r}: target {route.target!r} is not defined under upstreams")
            if route.mode != Mode.LEGACY and route.target == self.legacy:
                raise ValueError(f"route {route.name!r}: mode {route.mode.value} needs a target other than legacy")
            cdc_keys = route.shadow.cdc_wait is not None or route.shadow.cdc_tables is not None
            if cdc_keys and (not route.target or self.upstreams[route.target].cdc is None):
                raise ValueError(f"route {route.name!r}: shadow.cdc_wait / shadow.cdc_tables need a target "
                                 f"upstream with `cdc`")
        try:
            profiles = load_profiles(self.compare_profiles)
        except (ValueError, ValidationError) as exc:
            raise ValueError(f"compare_profiles: {exc}") from None
        for route in self.routes:
            if route.compare not in profiles:
                raise ValueError(f"route {route.name!r}: compare profile {route.compare!r} is not defined")
        return self


@dataclass(frozen=True)
class Route:
    """A validated route, ready for matching. `index` is its position in the file."""

    spec: RouteSpec
    regex: re.Pattern
    methods: Optional[frozenset]
    profile: CompareProfile
    index: int

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def mode(self) -> Mode:
        return self.spec.mode

    def shadows(self, method: str) -> bool:
        return self.spec.mode == Mode.SHADOW and (method in SAFE_METHODS or self.spec.shadow.unsafe_methods)


@dataclass(frozen=True)
class RouteTable:
    document: RouteTableDocument
    routes: tuple[Route, ...]
    profiles: dict[str, CompareProfile]
    unmatched: Route  # requests no route matches go to legacy through this implicit route
    sha256: str
    source: str = ""
    loaded_at: float = field(default_factory=time.time)
    text: str = field(default="", repr=False)  # the file as read, for the shadow worker to parse alike

    @property
    def legacy(self) -> str:
        return self.document.legacy

    @property
    def upstreams(self) -> dict[str, UpstreamSpec]:
        return self.document.upstreams

    def match(self, method: str, path: str) -> Route:
        """The first route whose path pattern and methods match; the implicit legacy route otherwise."""
        for route in self.routes:
            if (route.methods is None or method in route.methods) and route.regex.match(path):
                return route
        return self.unmatched

    def route(self, name: str) -> Optional[Route]:
        return next((r for r in self.routes if r.name == name), None)


def _expand_env(value: str) -> str:
    """`${MONOLITH_URL:-http://127.0.0.1:8000}` -> the variable's value, else the default."""

    def replace(match: re.Match) -> str:
        name, default = match.group("name"), match.group("default")
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise ValueError(f"environment variable {name} is not set and has no default")
        return default

    return _ENV.sub(replace, value)


def parse_route_table(text: str, source: str = "<text>") -> RouteTable:
    """Validate the whole document; raise RouteTableError naming each problem and where it is."""
    try:
        raw = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise RouteTableError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise RouteTableError(f"{source}: the route table must be a YAML mapping")
    try:
        document = RouteTableDocument.model_validate(raw)
    except ValidationError as exc:
        raise RouteTableError(f"{source}: {_describe(exc, raw)}") from None
    profiles = load_profiles(document.compare_profiles)
    routes = tuple(
        Route(spec, re.compile(spec.path), frozenset(spec.methods) if spec.methods else None,
              profiles[spec.compare], index)
        for index, spec in enumerate(document.routes)
    )
    unmatched = Route(RouteSpec(name="unmatched", path="^/"), re.compile("^/"), None, profiles["default"], len(routes))
    return RouteTable(document, routes, profiles, unmatched, hashlib.sha256(text.encode()).hexdigest(), source,
                      text=text)


def load_route_table(path: str | Path) -> RouteTable:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RouteTableError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_route_table(text, str(path))


def _describe(exc: ValidationError, raw: dict) -> str:
    """Pydantic errors with `routes[2]` replaced by the route's name, which is what people search for."""
    problems = []
    for error in exc.errors():
        location = list(error["loc"])
        if len(location) >= 2 and location[0] == "routes" and isinstance(location[1], int):
            try:
                location[1] = f"[{raw['routes'][location[1]].get('name', location[1])}]"
            except (KeyError, IndexError, TypeError, AttributeError):
                pass
        where = ".".join(str(part) for part in location) or "(document)"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return "; ".join(problems)
