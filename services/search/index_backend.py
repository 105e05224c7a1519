"""The one interface every search engine implements, and the engine-neutral query it answers.

Two implementations: `tantivy_backend` (embedded, the default; ADR 0020) and `elasticsearch_backend`
(production). The contract tests in tests/test_backend_contract.py run against each available one.

Index generations: a full rebuild writes a new generation next to the live one and publishes it in
one atomic step (a pointer file for tantivy, an alias swap for Elasticsearch). A running service
notices the switch with `follow_generation()` and replays what changed since the generation was
built (`built_from_seq`, see replica.py), so no update is lost to a rebuild.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Iterable, Optional

from services.search.documents import SearchDocument


def fuzzy_distance(term: str) -> int:
    """Typo tolerance by term length, the same as Elasticsearch's `fuzziness: AUTO:4,8`: short words
    must be exact (a typo there is another word), longer ones tolerate one or two edits."""
    if len(term) < 4:
        return 0
    return 1 if len(term) < 8 else 2


@dataclass(frozen=True)
class SearchRequest:
    kind: str
    terms: tuple[str, ...]                      # analysed words of `q`; the last one may be a prefix
    integer_equals: dict[str, int] = field(default_factory=dict)
    integer_ranges: dict[str, tuple[Optional[int], Optional[int]]] = field(default_factory=dict)
    keyword_equals: dict[str, str] = field(default_factory=dict)
    offset: int = 0
    limit: int = 20
    count: bool = True


@dataclass
class SearchPage:
    count: int
    hits: list[dict]          # document sources, best first


@dataclass(frozen=True)
class Suggestion:
    kind: str
    id: int
    text: str


class IndexRebuild(ABC):
    """A generation being built; invisible until `publish`."""

    @abstractmethod
    def add(self, documents: Iterable[SearchDocument]) -> None: ...

    @abstractmethod
    def publish(self, built_from_seq: int) -> str:
        """Make this generation the live one; returns its name."""

    @abstractmethod
    def abandon(self) -> None: ...


class SearchBackend(ABC):
    name: str
    # True when the engine answers in this process without network round trips (a sub-millisecond
    # lookup may then run on the event loop; a network client must not block it).
    in_process: bool = False

    @abstractmethod
    def open(self) -> None:
        """Create the live generation if there is none, open it for reading and writing."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def apply(self, upserts: list[SearchDocument], deletes: dict[str, list[int]]) -> None:
        """Write documents (replacing any with the same kind and id) and remove deleted ones; the
        changes are searchable when this returns."""

    @abstractmethod
    def search(self, request: SearchRequest) -> SearchPage: ...

    @abstractmethod
    def suggest(self, kind: str, terms: tuple[str, ...], limit: int) -> list[Suggestion]:
        """Documents whose suggest text has words starting with every term, best first; when none
        do, typo-tolerant matches."""

    @abstractmethod
    def count(self, kind: str) -> int: ...

    @abstractmethod
    def ready(self) -> bool: ...

    @abstractmethod
    def begin_rebuild(self) -> IndexRebuild: ...

    @abstractmethod
    def follow_generation(self) -> Optional[int]:
        """Switch to a generation published by someone else since the last call; returns the
        `built_from_seq` the caller must replay from, or None when nothing changed."""

    @abstractmethod
    def generation(self) -> tuple[str, int]:
        """The live generation's name and the replica seq it was built from."""
