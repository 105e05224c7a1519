"""The contract every search backend honours, run against each available one (tantivy always;
Elasticsearch when ELASTICSEARCH_URL points at a cluster)."""
from __future__ import annotations

from services.search import documents
from services.search.index_backend import SearchRequest
from services.search.tests.test_documents import sample_track


def titles(page):
    return [hit.get("title") or hit.get("name") for hit in page.hits]


def track_doc(pk, title, artist="Björk", popularity=10, year=1997, genre_id=1, duration_ms=200_000):
    track, artist_row, album, genre = sample_track(pk, title, artist, popularity, year, genre_id, duration_ms)
    return documents.track_document(track, artist_row, album, genre)


def search(backend, *terms, **kwargs):
    return backend.search(SearchRequest("track", tuple(terms), **kwargs))


def test_a_written_document_is_found_by_any_of_its_words(backend):
    backend.apply([track_doc(1, "All Is Full of Love"), track_doc(2, "Hunter")], {})
    assert titles(search(backend, "full", "love")) == ["All Is Full of Love"]
    assert search(backend, "bjork").count == 2  # accents folded, artist name searchable


def test_hits_are_the_exact_source_json(backend):
    doc = track_doc(1, "Hunter")
    backend.apply([doc], {})
    assert search(backend, "hunter").hits == [doc.source]


def test_upsert_replaces_and_delete_removes(backend):
    backend.apply([track_doc(1, "Hunter")], {})
    backend.apply([track_doc(1, "Hyperballad")], {})
    assert search(backend, "hunter").count == 0
    assert titles(search(backend, "hyperballad")) == ["Hyperballad"]
    backend.apply([], {"track": [1]})
    assert search(backend, "hyperballad").count == 0
    assert backend.count("track") == 0


def test_typos_are_tolerated_on_longer_words_only(backend):
    backend.apply([track_doc(1, "Bachelorette"), track_doc(2, "Army of Me"), track_doc(3, "Arms")], {})
    assert titles(search(backend, "bachelorete")) == ["Bachelorette"]   # one deletion
    assert titles(search(backend, "bahcelorette")) == ["Bachelorette"]  # one transposition
    assert titles(search(backend, "amry", "of", "me")) == ["Army of Me"]
    assert titles(search(backend, "me")) == ["Army of Me"]  # short words: exact (or prefix of last word)


def test_the_last_word_is_completed_as_a_prefix(backend):
    backend.apply([track_doc(1, "Pagan Poetry"), track_doc(2, "Possibly Maybe")], {})
    assert titles(search(backend, "pagan", "poe")) == ["Pagan Poetry"]
    assert search(backend, "poe", "pagan").count == 0  # only the word being typed is a prefix


def test_all_words_must_match_somewhere(backend):
    backend.apply([track_doc(1, "Hunter", artist="Björk"), track_doc(2, "Hunter", artist="Other")], {})
    assert [h["id"] for h in search(backend, "hunter", "bjork").hits] == [1]


def test_ranking_prefers_title_matches_then_popularity(backend):
    backend.apply([
        track_doc(1, "Something Else", artist="Hunter Band", popularity=10),
        track_doc(2, "Hunter", popularity=10),
        track_doc(3, "Hunter", popularity=95),
    ], {})
    assert [h["id"] for h in search(backend, "hunter").hits] == [3, 2, 1]


def test_filters(backend):
    backend.apply([
        track_doc(1, "Song", year=1995, genre_id=1, duration_ms=100_000),
        track_doc(2, "Song", year=2001, genre_id=2, duration_ms=300_000),
        track_doc(3, "Song", year=None, genre_id=None, duration_ms=200_000),
    ], {})
    ids = lambda page: sorted(h["id"] for h in page.hits)  # noqa: E731
    assert ids(search(backend, "song", integer_equals={"genre_id": 2})) == [2]
    assert ids(search(backend, "song", keyword_equals={"genre_slug": "genre-1"})) == [1]
    assert ids(search(backend, "song", integer_ranges={"year": (1996, None)})) == [2]
    assert ids(search(backend, "song", integer_ranges={"year": (None, 2001)})) == [1, 2]
    assert ids(search(backend, "song", integer_ranges={"duration_ms": (150_000, 300_000)})) == [2, 3]
    assert ids(search(backend, "song", integer_equals={"artist_id": 1})) == [1, 2, 3]


def test_offset_and_count_page_through_every_hit_once(backend):
    backend.apply([track_doc(i, f"Song {i}", popularity=i % 7) for i in range(1, 26)], {})
    seen = []
    for offset in (0, 10, 20):
        page = search(backend, "song", offset=offset, limit=10)
        assert page.count == 25
        seen += [h["id"] for h in page.hits]
    assert sorted(seen) == list(range(1, 26))


def test_suggest_completes_word_prefixes_and_tolerates_typos(backend):
    backend.apply([track_doc(1, "Army of Me", popularity=20), track_doc(2, "Armageddon", popularity=90),
                   track_doc(3, "Hunter")], {})
    assert [s.id for s in backend.suggest("track", ("arm",), 10)] == [2, 1]
    assert [s.text for s in backend.suggest("track", ("army", "o"), 10)] == ["Army of Me"]
    assert [s.text for s in backend.suggest("track", ("hunetr",), 10)] == ["Hunter"]
    assert backend.suggest("track", ("zzz",), 10) == []


def test_track_suggestions_are_the_most_popular_first(backend):
    # Legacy's order for suggested tracks; a short title would win on text relevance alone.
    backend.apply([track_doc(1, "Hunter", popularity=20),
                   track_doc(2, "Hunting High and Low in the Summer Rain", popularity=25)], {})
    assert [s.id for s in backend.suggest("track", ("hun",), 10)] == [2, 1]


def test_kinds_are_separate(backend):
    artist = {"id": 7, "user_id": None, "name": "Hunter", "bio": "", "country": "", "image_url": "",
              "created_at": None, "updated_at": None}
    backend.apply([documents.artist_document(artist), track_doc(7, "Hunter")], {})
    assert backend.search(SearchRequest("artist", ("hunter",))).hits[0]["name"] == "Hunter"
    backend.apply([], {"artist": [7]})
    assert backend.search(SearchRequest("artist", ("hunter",))).count == 0
    assert search(backend, "hunter").count == 1


def test_a_published_rebuild_replaces_the_live_generation(backend):
    backend.apply([track_doc(1, "Old")], {})
    rebuild = backend.begin_rebuild()
    rebuild.add([track_doc(2, "New")])
    assert search(backend, "new").count == 0  # invisible until published
    rebuild.publish(built_from_seq=42)
    assert backend.follow_generation() == 42
    assert backend.follow_generation() is None
    assert search(backend, "new").count == 1 and search(backend, "old").count == 0
    backend.apply([track_doc(3, "Newer")], {})  # the switched-to generation is writable
    assert search(backend, "newer").count == 1


def test_an_abandoned_rebuild_changes_nothing(backend):
    backend.apply([track_doc(1, "Old")], {})
    rebuild = backend.begin_rebuild()
    rebuild.add([track_doc(2, "New")])
    rebuild.abandon()
    assert backend.follow_generation() is None
    assert search(backend, "old").count == 1
