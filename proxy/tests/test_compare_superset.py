"""The `superset` profile option: the candidate's array must hold every legacy element (by key);
what the candidate has in addition, and the order, are not differences."""
import pytest

from proxy.compare import compare_documents, load_profiles


def profile(**body):
    return load_profiles({"p": body})["p"]


def found(legacy, candidate, p):
    return sorted((d.kind, d.path) for d in compare_documents(legacy, candidate, p))


def page(*ids, count=None, title="t"):
    return {"count": len(ids) if count is None else count, "results": [{"id": i, "title": title} for i in ids]}


SUPERSET = profile(superset={"$.results": "id"})
PAGED = profile(superset={"$.results": {"key": "id", "total": "count"}}, ignore=["$.count"])


def test_extra_candidate_elements_and_order_are_not_differences():
    assert found(page(1, 2), page(3, 2, 4, 1), SUPERSET) == [("changed", "$.count")]
    assert found(page(1, 2), page(3, 2, 4, 1), PAGED) == []


def test_a_legacy_element_the_candidate_lacks_is_removed():
    assert found(page(1, 2), page(2, 3), PAGED) == [("removed", "$.results[id=1]")]


def test_elements_on_both_sides_are_compared_in_full():
    legacy = {"results": [{"id": 1, "title": "Love"}]}
    candidate = {"results": [{"id": 9, "title": "x"}, {"id": 1, "title": "Love (Remastered)", "extra": 1}]}
    assert found(legacy, candidate, SUPERSET) == [("added", "$.results[id=1].extra"),
                                                  ("changed", "$.results[id=1].title")]


def test_an_empty_legacy_array_accepts_any_candidate():
    assert found(page(), page(5, 6), PAGED) == []


def test_an_empty_candidate_misses_every_legacy_element():
    # emptied (the array), total_zero (its count, compared before `ignore` drops it), and each element
    assert found(page(1, 2), page(), PAGED) == [("emptied", "$.results"), ("removed", "$.results[id=1]"),
                                                ("removed", "$.results[id=2]"), ("total_zero", "$.count")]


def test_an_empty_candidate_page_or_a_zero_count_fail_even_when_legacy_shows_one_page():
    assert found(page(1, 2, count=40), page(count=40), PAGED) == [("emptied", "$.results")]
    assert found(page(1, 2, count=40), page(1, 2, count=0), PAGED) == [("total_zero", "$.count")]
    assert found(page(count=0), page(count=0), PAGED) == []


def hits(*titled, count=None):
    return {"count": len(titled) if count is None else count,
            "results": [{"id": i, "title": t, "artist": {"name": a}} for i, t, a in titled]}


QUERIED = profile(superset={"$.results": {"key": "id", "total": "count", "match_fields": ["title", "artist.name"]}},
                  ignore=["$.count"])


def queried(legacy, candidate, query, p=QUERIED):
    return sorted((d.kind, d.path) for d in compare_documents(legacy, candidate, p, query))


def test_candidate_only_hits_must_match_the_query():
    legacy = hits((1, "Love Song", "Ann"), count=30)
    # a word, a word prefix, the artist's name, another case and accents: all match
    for title, artist in (("Love", "x"), ("Lovely day", "x"), ("x", "LOVE Inc"), ("Lövé", "x")):
        assert queried(legacy, hits((1, "Love Song", "Ann"), (2, title, artist), count=30), "q=love") == []
    assert queried(legacy, hits((1, "Love Song", "Ann"), (2, "Glove", "x"), count=30), "q=love") == [
        ("unmatched", "$.results[id=2]")]  # a mid-word substring is not a match
    assert queried(legacy, hits((5, "Rain", "Bo"), count=30), "q=love") == [("unmatched", "$.results[id=5]")]
    assert queried(legacy, hits((5, "Rain", "Bo"), count=30), {"q": "rain"}) == []
    # without the request's query the check cannot run (the verdict says so)
    assert queried(legacy, hits((5, "Rain", "Bo"), count=30), None) == []
    typo = profile(superset={"$.results": {"key": "id", "match_fields": ["title"], "typo_tolerance": True}},
                   ignore=["$.count"])
    assert queried(hits(), hits((3, "Lvoe", "x")), "q=love", typo) == []
    assert queried(hits(), hits((3, "Lvoe", "x")), "q=love") == [("unmatched", "$.results[id=3]")]


def test_a_whole_legacy_result_requires_the_hits_with_the_query_words_as_whole_words():
    legacy = hits((1, "Love Song", "Ann"), (2, "Glove Box", "Bo"), (3, "Songs", "Love Inc"))
    assert queried(legacy, hits((1, "Love Song", "Ann"), (3, "Songs", "Love Inc")), "q=love") == []
    assert queried(legacy, hits((1, "Love Song", "Ann")), "q=love") == [("removed", "$.results[id=3]")]
    assert queried(legacy, hits((3, "Songs", "Love Inc")), "q=love+song") == [("removed", "$.results[id=1]")]


def test_a_legacy_page_of_a_larger_result_only_compares_shared_elements():
    # Legacy shows 2 of its 40 hits: the ones the candidate lacks may be on another candidate page.
    assert found(page(1, 2, count=40), page(2, 3, count=57), PAGED) == []
    assert found(page(1, 2, count=40), page(2, 3, count=57, title="other"), PAGED) == [
        ("changed", "$.results[id=2].title")]
    # A total that is missing or not a number proves no page: the array is taken as the whole result.
    assert found({"count": "many", "results": [{"id": 1}]}, {"results": []}, PAGED) == [
        ("emptied", "$.results"), ("removed", "$.results[id=1]")]


def test_wildcard_paths_and_nested_sections():
    p = profile(superset={"$.*.results": {"key": "id", "total": "count"}}, ignore=["$.*.count"])
    legacy = {"tracks": page(1), "artists": page(7, 8, count=12)}
    candidate = {"tracks": page(4, 1), "artists": page(8, 9)}
    assert found(legacy, candidate, p) == []
    assert found({"tracks": page(1)}, {"tracks": page(4)}, p) == [("removed", "$.tracks.results[id=1]")]


def test_elements_without_the_key_fall_back_to_positional_comparison():
    legacy = {"results": [{"id": 1}, {"name": "no id"}]}
    candidate = {"results": [{"id": 1}, {"name": "no id"}, {"id": 3}]}
    assert found(legacy, candidate, SUPERSET) == [("added", "$.results[2]")]


def test_superset_wins_over_array_keys_on_the_same_path():
    p = profile(array_keys={"$.results": "id"}, superset={"$.results": "id"})
    assert found({"results": [{"id": 2}, {"id": 1}]}, {"results": [{"id": 1}, {"id": 3}, {"id": 2}]}, p) == []


def test_superset_rules_validate_and_extend():
    profiles = load_profiles({"base": {"superset": {"$.a": "id"}},
                              "child": {"extends": "base", "superset": {"$.b": {"key": "pk", "total": "n"}}}})
    assert {path: (rule.key, rule.total) for path, rule in profiles["child"].superset.items()} == {
        "$.a": ("id", None), "$.b": ("pk", "n")}
    with pytest.raises(ValueError):
        load_profiles({"bad": {"superset": {"results": "id"}}})
    with pytest.raises(ValueError):
        load_profiles({"bad": {"superset": {"$.results": {"key": "id", "unknown": 1}}}})
    with pytest.raises(ValueError):
        load_profiles({"bad": {"superset": {"$.results": {"total": "count"}}}})


# Autocomplete (the search profile's $.suggestions): kinds share ids, lists are cut at `limit`.
SUGGEST = profile(superset={"$.suggestions": {"key": ["type", "id"], "match_fields": ["text"],
                                              "limit_param": "limit", "limit_default": 3}})


def suggestions(*entries):
    return {"suggestions": [{"type": kind, "id": pk, "text": text} for kind, pk, text in entries]}


def suggest_found(legacy, candidate, query):
    return sorted((d.kind, d.path) for d in compare_documents(legacy, candidate, SUGGEST, query=query))


def test_suggestions_of_two_kinds_with_one_id_are_two_entries_and_order_is_free():
    legacy = suggestions(("artist", 7, "Lorde"), ("track", 7, "Lonely"))
    assert suggest_found(legacy, suggestions(("track", 7, "Lonely"), ("artist", 7, "Lorde")), "q=lo") == []
    assert suggest_found(legacy, suggestions(("artist", 7, "Lorde")), "q=lo") == [
        ("removed", "$.suggestions[type=track,id=7]")]


def test_a_legacy_suggestion_is_required_only_while_both_lists_are_below_the_limit():
    legacy = suggestions(("artist", 1, "Love Arcade"), ("track", 2, "Lovesong"))
    # The candidate had room (2 < 3) and lacks a completion legacy found: a regression.
    assert suggest_found(legacy, suggestions(("artist", 1, "Love Arcade")), "q=lov") == [
        ("removed", "$.suggestions[type=track,id=2]")]
    # At the limit the candidate ranks its own completions: missing legacy entries are not checked.
    full = suggestions(("artist", 1, "Love Arcade"), ("album", 5, "Lovers"), ("track", 9, "Big Love"))
    assert suggest_found(legacy, full, "q=lov&limit=3") == []
    assert suggest_found(legacy, full, "q=lov&limit=5") == [("removed", "$.suggestions[type=track,id=2]")]


def test_a_candidate_suggestion_that_does_not_complete_the_query_is_unmatched():
    legacy = suggestions(("artist", 1, "Love Arcade"))
    candidate = suggestions(("artist", 1, "Love Arcade"), ("track", 3, "Summer Rain"))
    assert suggest_found(legacy, candidate, "q=lov") == [("unmatched", "$.suggestions[type=track,id=3]")]


def test_a_candidate_hit_whose_shown_text_is_cut_is_not_taken_for_unmatched():
    rule = {"key": "id", "match_fields": ["title", "excerpt"], "cut_fields": {"excerpt": 10}}
    p = profile(superset={"$.results": rule})
    legacy = {"results": []}
    cut = {"results": [{"id": 1, "title": "Slow", "excerpt": "x" * 10}]}      # may say "love" past the cut
    whole = {"results": [{"id": 2, "title": "Slow", "excerpt": "short"}]}     # the whole text: no "love"
    assert sorted((d.kind, d.path) for d in compare_documents(legacy, cut, p, query="q=love")) == []
    assert sorted((d.kind, d.path) for d in compare_documents(legacy, whole, p, query="q=love")) == [
        ("unmatched", "$.results[id=2]")]
