"""The embedded search engine: tantivy (a Rust Lucene-like library) through its Python bindings,
one on-disk index per kind of document, in generations (see index_backend.py). ADR 0020.

Layout under the index directory::

    CURRENT                      name of the live generation (replaced atomically)
    gen-000002/generation.json   {"built_from_seq": ..., "schema_version": ...}
    gen-000002/track/ ...        one tantivy index per kind

Ranking: BM25 over per-field exact terms with field boosts, plus constant-score typo (fuzzy) and
prefix matches on a catch-all field, and for tracks the score multiplied by log2(2 + popularity).
Filters are fast-field range queries. Everything a hit returns is stored in the index as the hit's
JSON, so a search reads nothing else.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import orjson
import tantivy
from tantivy import Occur, Query

from services.search import text_analysis
from services.search.documents import KINDS, KindSpec, SearchDocument
from services.search.index_backend import (IndexRebuild, SearchBackend, SearchPage, SearchRequest, Suggestion,
                                           fuzzy_distance)

POINTER = "CURRENT"
# Bump when the schema, the analysers or what documents index change: a generation built by another
# version cannot be opened and must be rebuilt (`python -m services.search.rebuild --if-needed`).
SCHEMA_VERSION = 3
FIELD_WEIGHT = 4.0   # constant score per field boost point for an exact word match
FUZZY_SCORE = 0.5    # a typo match counts for less than any exact match of the same word...
PREFIX_SCORE = 0.4   # ...and a word completed from its prefix a little less again
# A word found in at least this many documents is taken as meant: no typo expansion for it. Fuzzy
# expansion of a common word ("love" -> live, lose, dove, move...) unions large posting lists, costs
# most of a query's time on a million tracks, and mostly finds what the user did not type.
KNOWN_WORD_DOCS = 3
# A word in more than this share of the documents ("the", "of") must still match, but ranks nothing:
# one cheap clause on the catch-all field instead of scoring it in every field (Elasticsearch's
# "common terms" idea).
COMMON_WORD_SHARE = 0.05
COMMON_SCORE = 0.1
COMMON_WORD_MIN_DOCS = 1000  # in a small index no word is too common to rank
LIVE_WRITER_HEAP = 32_000_000
REBUILD_WRITER_HEAP = 256_000_000


def build_schema(spec: KindSpec) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in spec.text_fields:
        builder.add_text_field(name, tokenizer_name=text_analysis.ANALYZER_NAME, index_option="freq")
    builder.add_text_field("all_text", tokenizer_name=text_analysis.ANALYZER_NAME, index_option="basic")
    # Edge n-grams of every word: completing the word being typed is one term lookup, not a union
    # of every term with that prefix (which made "dancing the" cost 30 ms on a million tracks).
    builder.add_text_field("all_prefixes", tokenizer_name="whitespace", index_option="basic")
    for name in spec.integer_fields:
        builder.add_integer_field(name, indexed=True, fast=True)
    for name in spec.keyword_fields:
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    if spec.suggest:
        builder.add_text_field("suggest", tokenizer_name="whitespace", index_option="freq")
    if spec.popularity:
        builder.add_float_field("popularity_weight", fast=True)
    builder.add_bytes_field("source", stored=True)
    return builder.build()


def to_tantivy(doc: SearchDocument, spec: KindSpec) -> tantivy.Document:
    out = tantivy.Document()
    out.add_integer("id", doc.id)
    for name in spec.text_fields:
        out.add_text(name, doc.text.get(name) or "")
    all_text = " ".join(doc.text.get(name) or "" for name in spec.text_fields)
    out.add_text("all_text", all_text)
    out.add_text("all_prefixes", text_analysis.word_prefixes(all_text))
    for name in spec.integer_fields:
        if doc.integers.get(name) is not None:
            out.add_integer(name, doc.integers[name])
    for name in spec.keyword_fields:
        if doc.keywords.get(name) is not None:
            out.add_text(name, doc.keywords[name])
    if spec.suggest:
        out.add_text("suggest", text_analysis.word_prefixes(doc.suggest_text))
    if spec.popularity:
        out.add_float("popularity_weight", popularity_weight(doc.popularity))
    out.add_bytes("source", orjson.dumps(doc.source))
    return out


def popularity_weight(popularity: int) -> float:
    """0..1; tantivy multiplies a score by log2(2 + weight), so popularity moves a track by at most
    ~1.6x: it orders hits of similar relevance, it does not beat a better match."""
    return min(max(popularity, 0), 100) / 100


def open_index(path: Path, spec: KindSpec) -> tantivy.Index:
    path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(build_schema(spec), path=str(path), reuse=True)
    # Analyzers are not persisted with the index: register on every open.
    index.register_tokenizer(text_analysis.ANALYZER_NAME, text_analysis.build_analyzer())
    # Searchers are refreshed explicitly after each commit, so "apply returned" means "searchable".
    index.config_reader(reload_policy="Manual")
    return index


@dataclass
class Generation:
    name: str
    path: Path
    built_from_seq: int
    indexes: dict[str, tantivy.Index]
    writers: dict[str, tantivy.IndexWriter]

    def close(self) -> None:
        for writer in self.writers.values():
            writer.wait_merging_threads()  # consumes the writer and releases the index lock
        self.writers.clear()


def read_pointer(root: Path) -> Optional[str]:
    try:
        return (root / POINTER).read_text().strip() or None
    except FileNotFoundError:
        return None


def write_pointer(root: Path, name: str) -> None:
    tmp = root / f".{POINTER}.{os.getpid()}"
    tmp.write_text(name + "\n")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, root / POINTER)  # atomic: readers see the old or the new name, never half


def next_generation_name(root: Path) -> str:
    numbers = [int(p.name[4:]) for p in root.glob("gen-*") if p.name[4:].isdigit()]
    return f"gen-{max(numbers, default=0) + 1:06d}"


class IncompatibleIndex(RuntimeError):
    pass


def live_generation_compatible(index_dir: str | Path) -> bool:
    """True when the index directory has a live generation this code can open."""
    root = Path(index_dir)
    name = read_pointer(root)
    try:
        meta = json.loads((root / name / "generation.json").read_text()) if name else {}
    except FileNotFoundError:
        return False
    return meta.get("schema_version") == SCHEMA_VERSION


class TantivyBackend(SearchBackend):
    name = "tantivy"
    in_process = True

    def __init__(self, index_dir: str | Path):
        self.root = Path(index_dir)
        self._gen: Optional[Generation] = None
        self._write_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        if self._gen is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        name = read_pointer(self.root)
        if name is None or not (self.root / name).exists():
            name = next_generation_name(self.root)
            self._write_generation_meta(self.root / name, 0)
            write_pointer(self.root, name)
        self._gen = self._open_generation(name, writable=True)

    def close(self) -> None:
        with self._write_lock:
            if self._gen is not None:
                self._gen.close()
                self._gen = None

    def ready(self) -> bool:
        return self._gen is not None and bool(self._gen.writers)

    def generation(self) -> tuple[str, int]:
        return self._gen.name, self._gen.built_from_seq

    def _open_generation(self, name: str, writable: bool) -> Generation:
        path = self.root / name
        meta = json.loads((path / "generation.json").read_text())
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise IncompatibleIndex(
                f"index generation {name} in {self.root} has schema version {meta.get('schema_version')}, this code "
                f"needs {SCHEMA_VERSION}: run `python -m services.search.rebuild --if-needed`")
        indexes = {kind: open_index(path / kind, spec) for kind, spec in KINDS.items()}
        writers = {kind: index.writer(LIVE_WRITER_HEAP, 1) for kind, index in indexes.items()} if writable else {}
        return Generation(name, path, meta["built_from_seq"], indexes, writers)

    @staticmethod
    def _write_generation_meta(path: Path, built_from_seq: int) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "generation.json").write_text(
            json.dumps({"built_from_seq": built_from_seq, "schema_version": SCHEMA_VERSION}))

    def follow_generation(self) -> Optional[int]:
        name = read_pointer(self.root)
        if name is None or name == self._gen.name:
            return None
        with self._write_lock:
            old, self._gen = self._gen, self._open_generation(name, writable=True)
            old.close()
        self._remove_older_generations(name)
        return self._gen.built_from_seq

    def _remove_older_generations(self, live: str) -> None:
        # Only older ones: a newer directory may be a rebuild still in progress.
        for path in self.root.glob("gen-*"):
            if path.name < live:
                shutil.rmtree(path, ignore_errors=True)

    # -- writes -------------------------------------------------------------------------------
    def apply(self, upserts: list[SearchDocument], deletes: dict[str, list[int]]) -> None:
        with self._write_lock:
            gen = self._gen
            touched = set()
            for kind, ids in deletes.items():
                for pk in ids:
                    gen.writers[kind].delete_documents_by_term("id", pk)
                    touched.add(kind)
            for doc in upserts:
                writer = gen.writers[doc.kind]
                # Delete-then-add in one commit is tantivy's upsert: deletes only see earlier adds.
                writer.delete_documents_by_term("id", doc.id)
                writer.add_document(to_tantivy(doc, KINDS[doc.kind]))
                touched.add(doc.kind)
            # Every commit first, then every reload: a change reaching several kinds (an artist
            # rename re-renders its albums and tracks) becomes visible in all of them together,
            # rather than one kind a commit ahead of the others.
            for kind in touched:
                gen.writers[kind].commit()
            for kind in touched:
                gen.indexes[kind].reload()

    def begin_rebuild(self) -> "TantivyRebuild":
        return TantivyRebuild(self.root)

    # -- reads --------------------------------------------------------------------------------
    def count(self, kind: str) -> int:
        return self._gen.indexes[kind].searcher().num_docs

    def search(self, request: SearchRequest) -> SearchPage:
        index = self._gen.indexes[request.kind]
        spec = KINDS[request.kind]
        schema = index.schema
        searcher = index.searcher()
        common = max(COMMON_WORD_MIN_DOCS, int(searcher.num_docs * COMMON_WORD_SHARE))
        clauses = []
        ranked = False  # whether any word scores (a common word only filters)
        for i, term in enumerate(request.terms):
            frequency = searcher.doc_freq("all_text", term)
            last = i == len(request.terms) - 1
            if frequency > common:
                word = _common_word_query(schema, term, last)
            else:
                word = _word_query(schema, spec, term, last=last, fuzzy=frequency < KNOWN_WORD_DOCS)
                ranked = True
            clauses.append((Occur.Must, word))
        clauses += _filter_clauses(schema, request)
        query = Query.boolean_query(clauses) if clauses else Query.all_query()
        order = {}
        if spec.popularity and ranked:
            order = {"weight_by_field": "popularity_weight"}
        elif spec.popularity and request.terms:
            # Only common words ("the", "of the"): every hit has the same score, so score x weight
            # orders by popularity alone. Sorting on the fast field gives that order without scoring
            # and weighting each of the (often half a million) hits, at half the cost.
            order = {"order_by_field": "popularity_weight", "order": tantivy.Order.Desc}
        result = searcher.search(
            query, limit=max(request.limit, 1), offset=request.offset, count=request.count, **order)
        hits = [orjson.loads(searcher.doc(address)["source"][0]) for _, address in result.hits[: request.limit]]
        return SearchPage(count=result.count if request.count else len(hits), hits=hits)

    def suggest(self, kind: str, terms: tuple[str, ...], limit: int) -> list[Suggestion]:
        spec = KINDS[kind]
        index = self._gen.indexes[kind]
        schema = index.schema
        searcher = index.searcher()
        # Tracks complete to the most popular first, as legacy's suggest orders them: a sort on the
        # fast field, not a score weighted hit by hit (a 3-letter prefix matches tens of thousands).
        order = {"order_by_field": "popularity_weight", "order": tantivy.Order.Desc} if spec.popularity else {}
        exact = Query.boolean_query(
            [(Occur.Must, Query.term_query(schema, "suggest", text_analysis.prefix_term(t))) for t in terms])
        hits = searcher.search(exact, limit=limit, count=False, **order).hits
        if not hits:
            fuzzy = Query.boolean_query([
                (Occur.Must, Query.fuzzy_term_query(schema, "suggest", text_analysis.prefix_term(t), fuzzy_distance(t)))
                for t in terms])
            hits = searcher.search(fuzzy, limit=limit, count=False, **order).hits
        sources = [orjson.loads(searcher.doc(address)["source"][0]) for _, address in hits]
        return [Suggestion(kind, s["id"], s.get("name") or s.get("title") or "") for s in sources]


def _word_query(schema: tantivy.Schema, spec: KindSpec, term: str, last: bool, fuzzy: bool = True) -> Query:
    """One word of the query: an exact match in any field (BM25, boosted per field), or a typo-
    tolerant match (for words the index does not know), or, for the word being typed, a completion."""
    options = []
    for position, (name, boost) in enumerate(spec.text_fields.items()):
        exact = Query.term_query(schema, name, term)
        # Which field matched is decided by a constant per field (BM25's per-field idf would let a
        # word that is rare among artist names outrank the same word in a title); BM25 on the main
        # field (the first: title or name) then orders its matches, shorter titles first. Scoring
        # BM25 in every field as well cost a third of the query time for no visible ranking gain.
        options.append((Occur.Should, Query.const_score_query(exact, boost * FIELD_WEIGHT)))
        if position == 0:
            options.append((Occur.Should, exact))
    distance = fuzzy_distance(term) if fuzzy else 0
    if distance:
        options.append((Occur.Should, Query.const_score_query(
            Query.fuzzy_term_query(schema, "all_text", term, distance), FUZZY_SCORE)))
    if last:
        options.append((Occur.Should, Query.const_score_query(_completion(schema, term), PREFIX_SCORE)))
    return Query.boolean_query(options)


def _common_word_query(schema: tantivy.Schema, term: str, last: bool) -> Query:
    """A very common word: it must match (or, being typed, be completed), it does not rank."""
    if last:  # the word itself is one of its completions: one posting list covers both
        return Query.const_score_query(_completion(schema, term), COMMON_SCORE)
    return Query.const_score_query(Query.term_query(schema, "all_text", term), COMMON_SCORE)


def _completion(schema: tantivy.Schema, term: str) -> Query:
    return Query.term_query(schema, "all_prefixes", text_analysis.prefix_term(term))


def _filter_clauses(schema: tantivy.Schema, request: SearchRequest) -> list:
    clauses = []
    for name, value in request.integer_equals.items():
        # The field's posting list, not a range over its fast field: an intersection is led by its
        # smallest side, and a fast-field range cannot lead, so "the" + genre visited all 584k "the"
        # hits (15 ms; 4.7 ms as a term). Scored 1.0 like a range, so the ranking is unchanged.
        clauses.append((Occur.Must, Query.const_score_query(Query.term_query(schema, name, value), 1.0)))
    for name, (low, high) in request.integer_ranges.items():
        if low is None and high is None:
            continue
        clauses.append((Occur.Must, Query.range_query(schema, name, tantivy.FieldType.Integer, low, high)))
    for name, value in request.keyword_equals.items():
        clauses.append((Occur.Must, Query.term_query(schema, name, value)))
    return clauses


class TantivyRebuild(IndexRebuild):
    """A new generation written beside the live one with a large writer heap; published by
    replacing the CURRENT pointer."""

    def __init__(self, root: Path):
        self.root = root
        self.name = next_generation_name(root)
        self.path = root / self.name
        TantivyBackend._write_generation_meta(self.path, 0)
        self.indexes = {kind: open_index(self.path / kind, spec) for kind, spec in KINDS.items()}
        self.writers = {kind: index.writer(REBUILD_WRITER_HEAP // len(KINDS), 1) for kind, index in self.indexes.items()}

    def add(self, documents: Iterable[SearchDocument]) -> None:
        for doc in documents:
            self.writers[doc.kind].add_document(to_tantivy(doc, KINDS[doc.kind]))

    def publish(self, built_from_seq: int) -> str:
        for writer in self.writers.values():
            writer.commit()
            writer.wait_merging_threads()
        self.writers.clear()
        TantivyBackend._write_generation_meta(self.path, built_from_seq)
        write_pointer(self.root, self.name)
        return self.name

    def abandon(self) -> None:
        for writer in self.writers.values():
            writer.rollback()
            writer.wait_merging_threads()
        self.writers.clear()
        shutil.rmtree(self.path, ignore_errors=True)
