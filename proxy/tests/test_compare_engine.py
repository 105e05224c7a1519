"""The comparison engine as a library (no HTTP): what the parity suite relies on."""
import gzip
import json

import pytest

from proxy.compare import (ABSENT, NoiseModel, NoiseSettings, ResponseSnapshot, ShadowReport, compare_documents,
                           compare_responses, load_profiles, load_profiles_file, render_text)
from proxy.compare.json_paths import PathSyntaxError, parse_pattern
from proxy.settings import ROOT

JSON = (("content-type", "application/json"),)


def snap(doc, status=200, headers=JSON):
    return ResponseSnapshot(status, headers, json.dumps(doc).encode())


def profile(**body):
    return load_profiles({"p": body})["p"]


def test_identical_bodies_match_without_parsing():
    assert compare_responses(snap({"a": 1}), snap({"a": 1}), profile()).matched


def test_key_order_and_whitespace_do_not_matter():
    left = ResponseSnapshot(200, JSON, b'{"a": 1, "b": [1, 2]}')
    right = ResponseSnapshot(200, JSON, b'{"b":[1,2],"a":1}')
    assert compare_responses(left, right, profile()).matched


def test_status_and_listed_headers_are_compared():
    result = compare_responses(snap({}, 200), snap({}, 404, (("content-type", "text/html"),)), profile())
    assert {d.field for d in result.differences} == {"status", "header:content-type"}


def test_null_is_not_missing():
    diffs = compare_documents({"a": None}, {}, profile())
    assert [(d.path, d.kind, d.legacy, d.candidate) for d in diffs] == [("$.a", "removed", None, ABSENT)]


def test_decimal_strings_are_not_numbers():
    diffs = compare_documents({"price": "1.50"}, {"price": 1.5}, profile())
    assert diffs[0].kind == "type_changed"


def test_ignored_paths_with_wildcards_and_descent():
    p = profile(ignore=["$.results[*].updated_at", "$..request_id"])
    left = {"request_id": 1, "results": [{"id": 1, "updated_at": "x", "meta": {"request_id": 5}}]}
    right = {"request_id": 2, "results": [{"id": 1, "updated_at": "y", "meta": {"request_id": 6}}]}
    assert compare_documents(left, right, p) == []


def test_arrays_compared_by_key_report_the_element_and_the_order():
    p = profile(array_keys={"$.results": "id"})
    left = {"results": [{"id": 1, "t": "a"}, {"id": 2, "t": "b"}]}
    right = {"results": [{"id": 2, "t": "b"}, {"id": 1, "t": "A"}]}
    diffs = {(d.path, d.kind) for d in compare_documents(left, right, p)}
    assert diffs == {("$.results", "order"), ("$.results[id=1].t", "changed")}
    unordered = profile(array_keys={"$.results": "id"}, unordered=["$.results"])
    assert {d.kind for d in compare_documents(left, right, unordered)} == {"changed"}


def test_missing_and_extra_elements_by_key():
    p = profile(array_keys={"$.results": "id"})
    diffs = compare_documents({"results": [{"id": 1}, {"id": 2}]}, {"results": [{"id": 1}, {"id": 3}]}, p)
    assert {(d.path, d.kind) for d in diffs} == {("$.results[id=2]", "removed"), ("$.results[id=3]", "added")}
    assert {d.field for d in diffs} == {"$.results[*]"}


def test_numeric_and_time_tolerances():
    p = profile(numeric_tolerance={"$..score": 0.01}, time_tolerance={"$..at": 2})
    left = {"score": 1.0, "price": "2.00", "at": "2024-01-01T00:00:00Z"}
    assert compare_documents(left, {"score": 1.005, "price": "2.00", "at": "2024-01-01T00:00:01Z"}, p) == []
    diffs = compare_documents(left, {"score": 1.1, "price": "2.00", "at": "2024-01-01T00:00:03Z"}, p)
    assert {d.path for d in diffs} == {"$.score", "$.at"}


def test_a_tolerance_accepts_another_value_of_the_same_format_only():
    p = profile(numeric_tolerance={"$..price": 0.05}, time_tolerance={"$..at": 1})
    micro = {"at": "2026-12-03T10:00:00.123456Z", "price": "1.99"}
    assert compare_documents(micro, {"at": "2026-12-03T10:00:01.000001Z", "price": "2.00"}, p) == []
    for other in ({"at": "2026-12-03T10:00:00.123456+00:00"},   # Z written as an offset
                  {"at": "2026-12-03T10:00:00Z"},               # microseconds dropped
                  {"at": "2026-12-03T10:00:00.123Z"},           # milliseconds instead
                  {"price": 1.99},                              # a decimal rendered as a number
                  {"price": "1.990"}):                          # another count of decimals
        diffs = compare_documents(micro, {**micro, **other}, p)
        assert [d.path for d in diffs] == ["$." + next(iter(other))], other
    assert [d.path for d in compare_documents({"at": "2026-12-03T10:00:00Z"},
                                              {"at": "2026-12-03T10:00:00.000000Z"}, p)] == ["$.at"]


def test_numbers_keep_their_json_type():
    p = profile()
    assert [d.kind for d in compare_documents({"n": 1}, {"n": 1.0}, p)] == ["type_changed"]
    assert [d.kind for d in compare_documents({"n": 1}, {"n": True}, p)] == ["type_changed"]


def test_default_headers_and_cookie_names():
    def response(status=200, **headers):
        return ResponseSnapshot(status, tuple((k.replace("_", "-"), v) for k, v in headers.items()), b"")
    p = profile()
    base = dict(content_type="text/html", location="/a/", allow="GET, HEAD", www_authenticate='Bearer realm="api"',
                vary="Accept, Cookie")
    assert compare_responses(response(**base), response(**{**base, "allow": "HEAD, GET", "vary": "cookie, accept"}),
                             p).matched
    for name, value in (("location", "http://other/a/"), ("allow", "GET"), ("www_authenticate", "Basic"),
                        ("vary", "Accept"), ("content_type", "application/json")):
        diffs = compare_responses(response(**base), response(**{**base, name: value}), p).differences
        assert [d.field for d in diffs] == ["header:" + name.replace("_", "-")]
    left = ResponseSnapshot(200, (("set-cookie", "sessionid=abc; Path=/"), ("set-cookie", "csrftoken=1")), b"")
    right = ResponseSnapshot(200, (("set-cookie", "csrftoken=2"), ("set-cookie", "sessionid=xyz; HttpOnly")), b"")
    assert compare_responses(left, right, p).matched
    only_one = ResponseSnapshot(200, (("set-cookie", "csrftoken=2"),), b"")
    diffs = compare_responses(left, only_one, p).differences
    assert [(d.field, d.legacy, d.candidate) for d in diffs] == [
        ("header:set-cookie", ["csrftoken", "sessionid"], ["csrftoken"])]
    fewer = profile(headers_ignore=["vary"], header_statuses={"allow": [405]})
    assert compare_responses(response(**base), response(content_type="text/html", location="/a/",
                                                        www_authenticate='Bearer realm="api"'), fewer).matched
    assert not compare_responses(response(405, allow="GET"), response(405), fewer).matched


def test_non_json_bodies_compare_as_text():
    result = compare_responses(ResponseSnapshot(200, (), b"<html>a"), ResponseSnapshot(200, (), b"<html>b"),
                               profile(headers=[]))
    assert [d.field for d in result.differences] == ["body"]


def test_gzip_bodies_are_compared_decoded():
    headers = (("content-type", "application/json"), ("content-encoding", "gzip"))
    left = ResponseSnapshot(200, headers, gzip.compress(b'{"a": 1}', mtime=1))
    right = ResponseSnapshot(200, headers, gzip.compress(b'{"a":1}', mtime=2))
    assert compare_responses(left, right, profile()).matched


def test_profiles_extend_and_validate():
    profiles = load_profiles({"base": {"ignore": ["$.a"]}, "child": {"extends": "base", "ignore": ["$.b"]}})
    assert profiles["child"].ignore == ["$.a", "$.b"]
    assert "default" in profiles
    with pytest.raises(ValueError, match="loop"):
        load_profiles({"a": {"extends": "b"}, "b": {"extends": "a"}})
    with pytest.raises(ValueError):
        load_profiles({"bad": {"ignore": ["results.x"]}})
    with pytest.raises(ValueError):
        load_profiles({"bad": {"unknown_option": 1}})


def test_path_syntax():
    assert parse_pattern("$..a")
    with pytest.raises(PathSyntaxError):
        parse_pattern("$.a[")


def test_the_shipped_route_table_profiles_load():
    profiles = load_profiles_file(ROOT / "proxy" / "routes.yaml")
    assert {"default", "drf-list", "catalog", "search"} <= set(profiles)
    assert profiles["catalog"].array_keys["$.results"] == "id"


def test_noise_model_and_report_separate_noise_from_regressions():
    report = ShadowReport(noise_settings={"r": NoiseSettings(min_samples=2)})
    request = {"method": "GET", "path": "/api/v1/tracks/"}
    noise = {"field": "$.generated_at", "path": "$.generated_at", "kind": "changed", "legacy": "1", "candidate": "2"}
    real = {"field": "$.results[*].title", "path": "$.results[id=2].title", "kind": "changed",
            "legacy": "Track 2", "candidate": "Track two"}

    def shadow(*differences):
        fields = [d["field"] for d in differences]
        report.add({"type": "shadow", "route": "r", "result": report.noise_model("r").classify(fields),
                    "request": request, "differences": list(differences)})

    shadow(noise)  # before the minimum sample nothing is noise, and later samples do not re-classify it
    report.add({"type": "noise", "route": "r", "request": request, "differences": [noise]})
    report.add({"type": "noise", "route": "r", "request": request, "differences": [noise]})
    shadow()
    shadow(noise)
    shadow(noise, real)
    report.add({"type": "shadow", "route": "r", "result": "timeout", "request": request, "error": "slow"})
    report.add({"type": "shadow", "route": "r", "result": "error", "request": request, "error": "open breaker"})
    report.add({"type": "shadow", "route": "r", "result": "lagging", "request": request, "error": "behind"})
    data = report.to_dict()["routes"]["r"]
    assert data["results"] == {"match": 1, "mismatch": 2, "noise": 1, "error": 1, "timeout": 1, "lagging": 1,
                               "skipped": 0}
    assert data["compared"] == 4 and data["requests"] == 7
    assert data["rates"]["mismatch"] == {"count": 2, "of": 4, "rate": 0.5}
    assert data["rates"]["error"] == {"count": 1, "of": 7, "rate": round(1 / 7, 4)}
    assert data["mismatch_rate"] == 0.5 and data["noise_rate"] == 0.25 and data["match_rate"] == 0.25
    assert "match_rate_excluding_noise" not in data
    assert data["top_fields"][0]["field"] == "$.results[*].title" and not data["top_fields"][0]["noisy"]
    assert data["top_fields"][1]["noisy"]
    assert data["top_fields"][0]["examples"][0]["request"]["path"] == "/api/v1/tracks/"
    (noisy,) = data["noisy_fields"]
    assert (noisy["field"], noisy["noisy"], noisy["noise_rate"], noisy["noise_samples"]) == ("$.generated_at", True, 1.0, 2)
    assert noisy["candidate_rate"] == 0.75 and noisy["candidate_samples"] == 4 and noisy["example"]["path"]
    text = render_text(report.to_dict())
    assert "mismatch 2/4 (50.0%)" in text and "errored 1/7" in text and "lagging 1/7" in text
    assert "legacy vs legacy 2/2 (100.0%), legacy vs candidate 3/4 (75.0%)" in text


def test_noise_is_a_rate_comparison_over_a_window():
    model = NoiseModel(settings=NoiseSettings(min_samples=10, window=20))
    for i in range(10):
        model.observe(["$.x"] if i % 2 else [])  # legacy differs from itself half of the time
        model.observe_candidate(["$.x"] if i % 2 else [])
    assert model.classify(["$.x"]) == "noise" and model.classify(["$.x", "$.y"]) == "mismatch"
    for _ in range(10):
        model.observe_candidate(["$.x"])  # the candidate now differs far more often: a regression
    assert model.candidate_rate("$.x") == 0.75 and model.classify(["$.x"]) == "mismatch"
    for _ in range(20):
        model.observe([])  # the window slides: legacy stops disagreeing with itself
    assert model.noise_rate("$.x") is None or model.noise_rate("$.x") == 0.0
    assert model.classify(["$.x"]) == "mismatch"
    few = NoiseModel(settings=NoiseSettings(min_samples=5))
    few.observe(["$.x"])
    few.observe_candidate(["$.x"])
    assert few.classify(["$.x"]) == "mismatch"  # one legacy-vs-legacy difference proves nothing


def test_thresholds_close_rates_are_noise_and_a_clear_excess_is_not():
    def model_with(noise_hits, candidate_hits, **settings):
        model = NoiseModel(settings=NoiseSettings(min_samples=100, window=100, **settings))
        for i in range(100):
            model.observe(["$.x"] if i < noise_hits else [])
            model.observe_candidate(["$.x"] if i < candidate_hits else [])
        return model
    assert model_with(50, 52).is_noise("$.x")          # 0.50 vs 0.52: within 0.03 absolute
    assert model_with(50, 60).is_noise("$.x")          # 0.10 over, but within 20 % of 0.60
    assert not model_with(50, 70).is_noise("$.x")      # 0.20 over, 29 % of 0.70
    assert model_with(50, 70, relative_threshold=0.3).is_noise("$.x")
    assert model_with(10, 12).is_noise("$.x")          # 0.02 over: within the absolute threshold
