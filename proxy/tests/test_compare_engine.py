"""The comparison engine as a library (no HTTP): what the parity suite relies on."""
import gzip
import json

import pytest

from proxy.compare import (ABSENT, NoiseModel, ResponseSnapshot, ShadowReport, compare_documents,
                           compare_responses, load_profiles, load_profiles_file)
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
    assert compare_documents(left, {"score": 1.005, "price": "2.00", "at": "2024-01-01T00:00:01.5Z"}, p) == []
    diffs = compare_documents(left, {"score": 1.1, "price": "2.00", "at": "2024-01-01T00:00:03Z"}, p)
    assert {d.path for d in diffs} == {"$.score", "$.at"}


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
    report = ShadowReport()
    request = {"method": "GET", "path": "/api/v1/tracks/"}
    noise = {"field": "$.generated_at", "path": "$.generated_at", "kind": "changed", "legacy": "1", "candidate": "2"}
    real = {"field": "$.results[*].title", "path": "$.results[id=2].title", "kind": "changed",
            "legacy": "Track 2", "candidate": "Track two"}
    report.add({"type": "shadow", "route": "r", "result": "mismatch", "request": request, "differences": [noise]})
    report.add({"type": "noise", "route": "r", "request": request, "differences": [noise]})
    report.add({"type": "shadow", "route": "r", "result": "mismatch", "request": request, "differences": [noise, real]})
    report.add({"type": "shadow", "route": "r", "result": "match", "request": request, "differences": []})
    report.add({"type": "shadow", "route": "r", "result": "timeout", "request": request, "error": "slow"})
    data = report.to_dict()["routes"]["r"]
    assert data["results"]["noise"] == 1 and data["results"]["mismatch"] == 1 and data["results"]["match"] == 1
    assert data["results"]["timeout"] == 1 and data["compared"] == 3 and data["requests"] == 4
    assert data["top_fields"][0]["field"] == "$.results[*].title" and not data["top_fields"][0]["noisy"]
    assert data["top_fields"][1]["noisy"]
    assert data["top_fields"][0]["examples"][0]["request"]["path"] == "/api/v1/tracks/"
    model = NoiseModel()
    model.observe(["$.x"])
    assert model.classify(["$.x"]) == "noise" and model.classify(["$.x", "$.y"]) == "mismatch"
