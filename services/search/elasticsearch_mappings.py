"""Elasticsearch index settings and mappings built from the same KindSpecs as the tantivy schema,
with an analysis chain equivalent to text_analysis.py (split on anything not a letter or digit,
lowercase, ASCII folding, drop words over 40 characters) so both engines match the same words."""
from __future__ import annotations

from services.search import text_analysis
from services.search.documents import KindSpec

ANALYSIS = {
    "tokenizer": {
        "vobe_words": {"type": "pattern", "pattern": r"[^\p{L}\p{N}]+"},
    },
    "filter": {
        "vobe_long": {"type": "length", "max": text_analysis.MAX_WORD_CHARS},
        "vobe_prefixes": {"type": "edge_ngram", "min_gram": 1, "max_gram": text_analysis.MAX_PREFIX_CHARS},
    },
    "analyzer": {
        text_analysis.ANALYZER_NAME: {"type": "custom", "tokenizer": "vobe_words",
                                      "filter": ["vobe_long", "lowercase", "asciifolding"]},
        # Autocomplete: edge n-grams of every word at index time, whole words at query time.
        "vobe_prefix": {"type": "custom", "tokenizer": "vobe_words",
                        "filter": ["vobe_long", "lowercase", "asciifolding", "unique", "vobe_prefixes"]},
    },
}

# Deep pages: the monolith pages through every hit, so allow more than the default 10,000.
MAX_RESULT_WINDOW = 100_000


def index_body(spec: KindSpec, bulk_load: bool = False) -> dict:
    text = {"type": "text", "analyzer": text_analysis.ANALYZER_NAME, "copy_to": ["all_text", "all_prefixes"]}
    properties: dict = {
        "id": {"type": "long"},
        "all_text": {"type": "text", "analyzer": text_analysis.ANALYZER_NAME, "index_options": "docs", "norms": False},
        # Edge n-grams of every word: completing the word being typed is one term lookup.
        "all_prefixes": {"type": "text", "analyzer": "vobe_prefix", "search_analyzer": text_analysis.ANALYZER_NAME,
                         "index_options": "docs", "norms": False},
    }
    properties.update({name: dict(text) for name in spec.text_fields})
    properties.update({name: {"type": "long"} for name in spec.integer_fields})
    properties.update({name: {"type": "keyword"} for name in spec.keyword_fields})
    if spec.suggest:
        properties["suggest"] = {"type": "text", "analyzer": "vobe_prefix", "search_analyzer": text_analysis.ANALYZER_NAME}
    if spec.popularity:
        properties["popularity"] = {"type": "integer"}
    # The hit's JSON is kept as stored-only source, never indexed.
    properties["source"] = {"type": "object", "enabled": False}
    settings = {
        "analysis": ANALYSIS, "max_result_window": MAX_RESULT_WINDOW,
        # A bulk load indexes without refreshes or replicas; publish() restores both.
        "refresh_interval": "-1" if bulk_load else "1s",
        "number_of_replicas": 0 if bulk_load else 1,
    }
    return {"settings": {"index": settings}, "mappings": {"dynamic": "strict", "properties": properties}}
