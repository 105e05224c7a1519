"""The production search backend: Elasticsearch through the official client.

Every kind lives behind an alias (`<prefix>-track` -> `<prefix>-track-gen-000003`); the service reads
and writes through the aliases only, so a rebuild (new concrete indices, bulk loaded, then one atomic
`_aliases` request moving every alias) is invisible to it except for `follow_generation`, which reads
the generation's `built_from_seq` from the index mapping's `_meta` so the service can replay changes
made while the rebuild ran. Queries mirror tantivy_backend.py clause for clause.
"""
from __future__ import annotations

from typing import Iterable, Optional

from elasticsearch import Elasticsearch, NotFoundError, helpers

from services.search import text_analysis
from services.search.documents import KINDS, SearchDocument
from services.search.elasticsearch_mappings import index_body
from services.search.index_backend import (IndexRebuild, SearchBackend, SearchPage, SearchRequest, Suggestion,
                                           fuzzy_distance)
from services.search.tantivy_backend import FIELD_WEIGHT, FUZZY_SCORE, PREFIX_SCORE


def to_source(doc: SearchDocument) -> dict:
    spec = KINDS[doc.kind]
    body: dict = {"id": doc.id, "source": doc.source}
    body.update({name: doc.text.get(name) or "" for name in spec.text_fields})
    body.update({name: doc.integers.get(name) for name in spec.integer_fields})
    body.update({name: doc.keywords.get(name) for name in spec.keyword_fields})
    if spec.suggest:
        body["suggest"] = doc.suggest_text
    if spec.popularity:
        body["popularity"] = min(max(doc.popularity, 0), 100)
    return body


def word_clause(kind: str, term: str, last: bool) -> dict:
    spec = KINDS[kind]
    should: list[dict] = []
    for position, (name, boost) in enumerate(spec.text_fields.items()):
        should.append({"constant_score": {"filter": {"term": {name: term}}, "boost": boost * FIELD_WEIGHT}})
        if position == 0:  # BM25 on the main field only, as in tantivy_backend._word_query
            should.append({"term": {name: term}})
    distance = fuzzy_distance(term)
    if distance:
        should.append({"constant_score": {"filter": {"fuzzy": {"all_text": {"value": term, "fuzziness": distance}}},
                                          "boost": FUZZY_SCORE}})
    if last:
        should.append({"constant_score": {"filter": {"term": {"all_prefixes": text_analysis.prefix_term(term)}},
                                          "boost": PREFIX_SCORE}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def filter_clauses(request: SearchRequest) -> list[dict]:
    clauses: list[dict] = [{"term": {name: value}} for name, value in request.integer_equals.items()]
    for name, (low, high) in request.integer_ranges.items():
        bounds = {k: v for k, v in (("gte", low), ("lte", high)) if v is not None}
        if bounds:
            clauses.append({"range": {name: bounds}})
    clauses += [{"term": {name: value}} for name, value in request.keyword_equals.items()]
    return clauses


def popularity_scaled(query: dict) -> dict:
    """tantivy_backend.popularity_weight: score * log2(2 + popularity / 100); ln orders the same."""
    return {"function_score": {"query": query, "field_value_factor": {
        "field": "popularity", "factor": 0.01, "modifier": "ln2p", "missing": 0}, "boost_mode": "multiply"}}


def search_body(request: SearchRequest) -> dict:
    must = [word_clause(request.kind, t, i == len(request.terms) - 1) for i, t in enumerate(request.terms)]
    query: dict = {"bool": {"must": must or [{"match_all": {}}], "filter": filter_clauses(request)}}
    if KINDS[request.kind].popularity:
        query = popularity_scaled(query)
    return {"query": query, "from": request.offset, "size": request.limit,
            "track_total_hits": request.count, "_source": ["source"],
            "sort": ["_score", {"id": "asc"}]}


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self, client: Elasticsearch, prefix: str, refresh: str = "wait_for"):
        self.client = client
        self.prefix = prefix
        self.refresh = refresh  # "wait_for": apply returns once the change is searchable
        self._generation: Optional[str] = None

    @classmethod
    def from_url(cls, url: str, prefix: str) -> "ElasticsearchBackend":
        return cls(Elasticsearch(url, request_timeout=30, retry_on_timeout=True, max_retries=3), prefix)

    def alias(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"

    def concrete(self, kind: str, generation: str) -> str:
        return f"{self.prefix}-{kind}-{generation}"

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        generation = self._live_generation()
        if generation is None:
            generation = "gen-000001"
            for kind, spec in KINDS.items():
                self.client.indices.create(index=self.concrete(kind, generation), **index_body(spec))
                self.client.indices.put_mapping(index=self.concrete(kind, generation), meta={"built_from_seq": 0})
            self.client.indices.update_aliases(actions=[
                {"add": {"index": self.concrete(kind, generation), "alias": self.alias(kind)}} for kind in KINDS])
        self._generation = generation

    def close(self) -> None:
        self.client.close()

    def ready(self) -> bool:
        return self._generation is not None and bool(self.client.ping())

    def _live_generation(self) -> Optional[str]:
        try:
            targets = self.client.indices.get_alias(name=self.alias("track"))
        except NotFoundError:
            return None
        [index] = list(targets)
        return index.rsplit("-", 2)[-2] + "-" + index.rsplit("-", 1)[-1]

    def generation(self) -> tuple[str, int]:
        mapping = self.client.indices.get_mapping(index=self.alias("track"))
        [body] = mapping.values()
        return self._generation, int(body["mappings"].get("_meta", {}).get("built_from_seq", 0))

    def follow_generation(self) -> Optional[int]:
        live = self._live_generation()
        if live is None or live == self._generation:
            return None
        self._generation = live
        return self.generation()[1]

    # -- writes -------------------------------------------------------------------------------
    def apply(self, upserts: list[SearchDocument], deletes: dict[str, list[int]]) -> None:
        actions = [{"_op_type": "index", "_index": self.alias(d.kind), "_id": str(d.id), "_source": to_source(d)}
                   for d in upserts]
        actions += [{"_op_type": "delete", "_index": self.alias(kind), "_id": str(pk)}
                    for kind, ids in deletes.items() for pk in ids]
        if not actions:
            return
        # A delete of a document that was never indexed (a draft post, say) is not an error.
        _ok, errors = helpers.bulk(self.client, actions, refresh=self.refresh, raise_on_error=False,
                                   raise_on_exception=True)
        real = [e for e in errors if e.get("delete", {}).get("status") != 404]
        if real:
            raise RuntimeError(f"Elasticsearch bulk errors: {real[:3]}")

    def begin_rebuild(self) -> "ElasticsearchRebuild":
        return ElasticsearchRebuild(self)

    def drop_everything(self) -> None:
        self.client.indices.delete(index=f"{self.prefix}-*", ignore_unavailable=True)

    # -- reads --------------------------------------------------------------------------------
    def count(self, kind: str) -> int:
        return int(self.client.count(index=self.alias(kind))["count"])

    def search(self, request: SearchRequest) -> SearchPage:
        response = self.client.search(index=self.alias(request.kind), **search_body(request))
        hits = [hit["_source"]["source"] for hit in response["hits"]["hits"]]
        total = response["hits"]["total"]["value"] if request.count else len(hits)
        return SearchPage(count=total, hits=hits)

    def suggest(self, kind: str, terms: tuple[str, ...], limit: int) -> list[Suggestion]:
        popular = KINDS[kind].popularity
        for fuzzy in (False, True):
            clauses = [
                {"fuzzy": {"suggest": {"value": text_analysis.prefix_term(t), "fuzziness": fuzzy_distance(t)}}}
                if fuzzy else {"term": {"suggest": text_analysis.prefix_term(t)}}
                for t in terms
            ]
            query: dict = {"bool": {"must": clauses}}
            # Tracks: most popular first, as legacy's suggest and the tantivy backend order them.
            sort = [{"popularity": "desc"}, {"id": "asc"}] if popular else ["_score", {"id": "asc"}]
            response = self.client.search(index=self.alias(kind), query=query, size=limit, track_total_hits=False,
                                          _source=["source"], sort=sort)
            sources = [hit["_source"]["source"] for hit in response["hits"]["hits"]]
            if sources:
                return [Suggestion(kind, s["id"], s.get("name") or s.get("title") or "") for s in sources]
        return []


class ElasticsearchRebuild(IndexRebuild):
    def __init__(self, backend: ElasticsearchBackend):
        self.backend = backend
        client = backend.client
        existing = client.indices.get(index=f"{backend.prefix}-track-gen-*", ignore_unavailable=True)
        numbers = [int(name.rsplit("-", 1)[-1]) for name in existing]
        self.generation = f"gen-{max(numbers, default=0) + 1:06d}"
        for kind, spec in KINDS.items():
            client.indices.create(index=backend.concrete(kind, self.generation), **index_body(spec, bulk_load=True))

    def add(self, documents: Iterable[SearchDocument]) -> None:
        actions = ({"_op_type": "index", "_index": self.backend.concrete(d.kind, self.generation), "_id": str(d.id),
                    "_source": to_source(d)} for d in documents)
        helpers.bulk(self.backend.client, actions, chunk_size=2000, refresh=False)

    def publish(self, built_from_seq: int) -> str:
        client, backend = self.backend.client, self.backend
        new = [backend.concrete(kind, self.generation) for kind in KINDS]
        client.indices.put_settings(index=",".join(new), settings={"index": {"refresh_interval": "1s",
                                                                              "number_of_replicas": 1}})
        client.indices.refresh(index=",".join(new))
        for index in new:
            client.indices.put_mapping(index=index, meta={"built_from_seq": built_from_seq})
        old = backend._live_generation()
        actions = []
        for kind in KINDS:
            if old is not None:
                actions.append({"remove": {"index": backend.concrete(kind, old), "alias": backend.alias(kind)}})
            actions.append({"add": {"index": backend.concrete(kind, self.generation), "alias": backend.alias(kind)}})
        # One request: every alias moves at once, or none does.
        client.indices.update_aliases(actions=actions)
        if old is not None:
            client.indices.delete(index=",".join(backend.concrete(kind, old) for kind in KINDS), ignore_unavailable=True)
        return self.generation

    def abandon(self) -> None:
        self.backend.client.indices.delete(
            index=",".join(self.backend.concrete(kind, self.generation) for kind in KINDS), ignore_unavailable=True)
