"""tantivy: a query made only of very common words ranks by popularity (every hit has the same score),
sorted on the popularity fast field rather than scored and weighted hit by hit."""
from __future__ import annotations

import pytest

from services.search import tantivy_backend
from services.search.index_backend import SearchRequest
from services.search.tantivy_backend import TantivyBackend
from services.search.tests.test_backend_contract import titles, track_doc

POPULARITY = {"The Hunter": 10, "The Anchor": 90, "Into the Night": 50, "Theory": 70, "Song": 99, "Other Song": 30}


@pytest.fixture
def backend(tmp_path, monkeypatch):
    # "the" is a word of 3 of the 6 documents: common when more than 2 (40%) is.
    monkeypatch.setattr(tantivy_backend, "COMMON_WORD_MIN_DOCS", 0)
    monkeypatch.setattr(tantivy_backend, "COMMON_WORD_SHARE", 0.4)
    engine = TantivyBackend(tmp_path / "index")
    engine.open()
    engine.apply([track_doc(pk, title, popularity=popularity, year=1990 + pk, genre_id=1 + pk % 2)
                  for pk, (title, popularity) in enumerate(POPULARITY.items(), 1)], {})
    yield engine
    engine.close()


def search(backend, *terms, **kwargs):
    return backend.search(SearchRequest("track", terms, **kwargs))


def test_common_words_only_rank_by_popularity_with_the_full_count(backend):
    page = search(backend, "the")  # the word being typed: "Theory" is a completion
    assert titles(page) == ["The Anchor", "Theory", "Into the Night", "The Hunter"] and page.count == 4
    second = search(backend, "the", offset=2, limit=2)
    assert titles(second) == ["Into the Night", "The Hunter"] and second.count == 4


def test_common_words_with_filters(backend):
    page = search(backend, "the", integer_ranges={"year": (1993, None)})
    assert titles(page) == ["Theory", "Into the Night"] and page.count == 2
    page = search(backend, "the", integer_equals={"genre_id": 2})
    assert titles(page) == ["Into the Night", "The Hunter"] and page.count == 2
    assert search(backend, "song", integer_equals={"genre_id": 1}).count == 1


def test_a_rarer_word_brings_back_relevance_ranking(backend):
    assert titles(search(backend, "the", "anchor")) == ["The Anchor"]
    assert titles(search(backend, "song")) == ["Song", "Other Song"]
