"""The proxy's `search` compare profile says what search parity is: sets of hits, equal hit JSON,
no order, no totals (proxy/routes.yaml, docs/search.md)."""
from __future__ import annotations

from pathlib import Path

from proxy.compare.engine import compare_documents
from proxy.compare.profiles import load_profiles_file

ROUTES = Path(__file__).resolve().parents[3] / "proxy" / "routes.yaml"
PROFILE = load_profiles_file(ROUTES)["search"]


def page(*hits, count=None, next_link=None):
    return {"count": count if count is not None else len(hits), "next": next_link, "previous": None,
            "results": [{"id": pk, "title": title} for pk, title in hits]}


def kinds(legacy, candidate):
    return sorted((d.kind, d.path) for d in compare_documents(legacy, candidate, PROFILE))


def test_order_totals_and_links_are_not_compared():
    legacy = page((1, "Love"), (2, "Lovely"), next_link="http://x/?page=2", count=40)
    candidate = page((2, "Lovely"), (1, "Love"), next_link="http://x/?page=2&q=love", count=57)
    assert kinds(legacy, candidate) == []


def test_extra_candidate_hits_are_fine_and_a_missing_legacy_hit_is_a_parity_failure():
    assert kinds(page((1, "Love")), page((1, "Love"), (3, "Lvoe"))) == []
    assert kinds(page((1, "Love"), (2, "Lovely")), page((1, "Love"))) == [("removed", "$.results[id=2]")]


def test_a_legacy_page_of_a_larger_result_only_compares_the_hits_both_show():
    # Legacy's first page is its most popular hits, the new one the most relevant.
    legacy = page((1, "Love"), (2, "Lovely"), count=40, next_link="http://x/?page=2")
    assert kinds(legacy, page((2, "Lovely"), (5, "Love Song"), count=57)) == []
    assert kinds(legacy, page((2, "Lovely!"), count=57)) == [("changed", "$.results[id=2].title")]


def test_a_hit_on_both_sides_must_be_the_same_json():
    differences = compare_documents(page((1, "Love")), page((1, "Love (Remastered)")), PROFILE)
    assert [(d.kind, d.field) for d in differences] == [("changed", "$.results[*].title")]


def test_mixed_search_sections_and_suggestions_are_sets():
    legacy = {"query": "lo", "tracks": {"count": 2, "results": [{"id": 1}, {"id": 2}]},
              "suggestions": [{"type": "artist", "id": 1, "text": "Lo"}, {"type": "track", "id": 1, "text": "Lo"}]}
    candidate = {"query": "lo", "tracks": {"count": 9, "results": [{"id": 2}, {"id": 7}, {"id": 1}]},
                 "suggestions": [{"type": "track", "id": 1, "text": "Lo"}, {"type": "artist", "id": 1, "text": "Lo"}]}
    assert compare_documents(legacy, candidate, PROFILE) == []
    candidate["tracks"]["results"].pop()
    assert kinds(legacy, candidate) == [("removed", "$.tracks.results[id=1]")]
