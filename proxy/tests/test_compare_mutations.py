"""The comparator tested by mutation: real monolith answers (the Django test client against the
monolith's own demo data) are compared with candidates that carry one plausible defect each. Every
defect must be reported as a mismatch naming the right field, and every unmutated answer (the same
JSON re-serialised, and the differences search parity accepts) must match.

Run with `-s` to see the tally ("defects caught: N of M tried") and each defect's verdict.
"""
from __future__ import annotations

import collections
import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import orjson
import pytest

from proxy.compare import CompareProfile, ResponseSnapshot, ShadowReport, compare_responses, load_profiles_file
from proxy.compare.engine import _element_matches

ROUTES = Path(__file__).resolve().parents[1] / "routes.yaml"
PROFILES = load_profiles_file(ROUTES)
# The catalog profile with a replica-lag tolerance on timestamps, as the parity suite adds one: a
# tolerance must accept another value of the same format only, so format defects are tried under it.
PROFILES["catalog+lag"] = CompareProfile(**{
    **PROFILES["catalog"].model_dump(exclude={"name"}), "name": "catalog+lag",
    "time_tolerance": {"$..updated_at": 1, "$..created_at": 1}})
OTHER_HOST = "http://catalog.internal:8101"


@dataclass
class Answer:
    method: str
    url: str
    profile: str
    snapshot: ResponseSnapshot
    query: Optional[str] = None

    def doc(self) -> Any:
        return orjson.loads(self.snapshot.body)


def _snapshot(response) -> ResponseSnapshot:
    headers = tuple((name.lower(), value) for name, value in response.headers.items())
    cookies = tuple(("set-cookie", morsel.OutputString()) for morsel in response.cookies.values())
    return ResponseSnapshot(response.status_code, headers + cookies, response.content)


def _title_words(tracks: list[dict]) -> collections.Counter:
    return collections.Counter(w for t in tracks for w in dict.fromkeys(re.findall(r"[a-z]{3,}", t["title"].lower())))


@pytest.fixture(scope="module")
def answers(django_db_setup, django_db_blocker) -> dict[str, Answer]:
    """Real answers of the monolith, from its demo data (rolled back afterwards)."""
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client

    found: dict[str, Answer] = {}
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("generate_demo_data", tracks=300, seed=42, verbosity=0)
        client = Client()

        def ask(key, method, url, profile, query=None, **kwargs):
            response = getattr(client, method.lower())(url, **kwargs)
            found[key] = Answer(method, url, profile, _snapshot(response), query)
            return found[key]

        tracks = ask("track-list", "GET", "/api/v1/tracks/", "catalog+lag")
        first = tracks.doc()["results"][0]
        ask("track-detail", "GET", f"/api/v1/tracks/{first['id']}/", "catalog+lag")
        from content.models import Post
        post = Post.objects.published().filter(comments__isnull=False, tracks__isnull=False).order_by("id").first()
        ask("post-detail", "GET", f"/api/v1/posts/{post.pk}/", "catalog")
        ask("post-comments", "GET", f"/api/v1/posts/{post.pk}/comments/", "catalog+lag")
        ask("redirect-301", "GET", f"/api/v1/tracks/{first['id']}", "catalog")
        ask("not-found-404", "GET", "/api/v1/tracks/987654/", "catalog")
        ask("not-allowed-405", "DELETE", "/api/v1/search/tracks/?q=love", "search", "q=love")
        ask("unauthorized-401", "POST", "/api/v1/tracks/", "catalog", data={}, content_type="application/json")
        # every track, for the search queries and for hits of other queries
        every = []
        page = 1
        while True:
            chunk = orjson.loads(client.get(f"/api/v1/tracks/?page={page}").content)
            every += chunk["results"]
            if not chunk["next"]:
                break
            page += 1
        words = _title_words(every)
        common = words.most_common(1)[0][0]
        rare = next(w for w, n in sorted(words.items(), key=lambda item: (item[1], item[0])) if 2 <= n <= 5)
        ask("search-page", "GET", f"/api/v1/search/tracks/?q={common}", "search", f"q={common}")
        ask("search-whole", "GET", f"/api/v1/search/tracks/?q={rare}", "search", f"q={rare}")
        ask("search-mixed", "GET", f"/api/v1/search/?q={common}", "search", f"q={common}")
        found["_every"] = Answer("GET", "", "catalog", ResponseSnapshot(200, (), orjson.dumps(every)))
        transaction.set_rollback(True)
    page_doc = found["search-page"].doc()
    assert page_doc["count"] > len(page_doc["results"]) > 0, "the common word must give more than one page"
    whole_doc = found["search-whole"].doc()
    assert 0 < whole_doc["count"] == len(whole_doc["results"]), "the rare word must give one whole page"
    assert {a.snapshot.status for a in found.values()} >= {200, 301, 401, 404, 405}
    return found


# -- the catalogue of defects ----------------------------------------------------------------------

@dataclass
class Defect:
    name: str
    answer: str
    field: str  # the field the comparison must name (exactly, or a field under it)
    body: Optional[Callable[[Any, dict], Any]] = None  # (doc, answers) -> new doc (or None: doc changed in place)
    status: Optional[int] = None
    headers: Optional[Callable[[dict], None]] = None  # edits {name: [values]} in place


def _first(doc):
    return doc["results"][0]


def _set(path: tuple, value):
    def change(doc, _):
        target = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value
    return change


def _delete(path: tuple):
    def change(doc, _):
        target = doc
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]
    return change


def _header(name: str, value: Optional[str]):
    def change(headers):
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = [value]
    return change


def _rename(old: str, new: str):
    def change(doc, _):
        doc[new] = doc.pop(old)
    return change


def _other_artist(artist: dict, answers: dict) -> dict:
    for track in answers["_every"].doc():
        if track["artist"]["id"] != artist["id"]:
            return track["artist"]
    raise AssertionError("the demo data has one artist only")


def _other_album(album: dict, answers: dict) -> dict:
    for track in answers["_every"].doc():
        if track["album"] and track["album"]["id"] != album["id"]:
            return track["album"]
    raise AssertionError("the demo data has one album only")


def _other_author(author: dict, answers: dict) -> dict:
    return {**author, "id": author["id"] + 1, "username": author["username"] + "x"}


def _wrong_nested(path: tuple, replacement):
    def change(doc, answers):
        target = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = replacement(target[path[-1]], answers)
    return change


def _unmatched_hits(doc, answers):
    query = answers["search-page"].query.split("=", 1)[1]
    rule = PROFILES["search"].superset["$.results"]
    shown = {hit["id"] for hit in doc["results"]}
    strangers = [t for t in answers["_every"].doc()
                 if t["id"] not in shown and not _element_matches(t, rule, [query])]
    assert len(strangers) >= 3
    doc["results"] = strangers[:len(doc["results"])]


def _drop_whole_word_hit(doc, answers):
    query = answers["search-whole"].query.split("=", 1)[1]
    keep = [h for h in doc["results"] if query not in re.findall(r"\w+", h["title"].lower())]
    assert len(keep) < len(doc["results"])
    doc["results"] = keep + [h for h in doc["results"] if h not in keep][1:]


def _wrong_hit_album(doc, answers):
    hit = next(h for h in doc["results"] if h["album"])
    hit["album"] = _other_album(hit["album"], answers)


def _reverse_results(doc, _):
    doc["results"].reverse()


def _microseconds(value: str) -> str:
    return value[:-1] + ".000000Z"


def _offset(value: str) -> str:
    return value[:-1] + "+00:00"


def _next_second(value: str) -> str:
    from datetime import datetime, timedelta
    moved = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ") + timedelta(seconds=1)
    return moved.strftime("%Y-%m-%dT%H:%M:%SZ")


def _plus_one(value: int) -> int:
    return value + 1


def _other_host(link: str) -> str:
    return re.sub(r"^https?://[^/]+", OTHER_HOST, link)


DEFECTS = [
    # track list
    Defect("decimal rendered as a number", "track-list", "$.results[*].price",
           _wrong_nested(("results", 0, "price"), lambda v, _: float(v))),
    Defect("integer rendered as a float", "track-list", "$.results[*].popularity",
           _set(("results", 0, "popularity"), float)),
    Defect("datetime: Z written as +00:00", "track-list", "$.results[*].created_at",
           _set(("results", 0, "created_at"), _offset)),
    Defect("datetime: microseconds added (within the time tolerance)", "track-list", "$.results[*].updated_at",
           _set(("results", 0, "updated_at"), _microseconds)),
    Defect("dropped field", "track-list", "$.results[*].file_path", _delete(("results", 0, "file_path"))),
    Defect("null vs missing", "track-list", "$.previous", _delete(("previous",))),
    Defect("absolute link on another host", "track-list", "$.next", _set(("next",), _other_host)),
    Defect("off-by-one count", "track-list", "$.count", _set(("count",), _plus_one)),
    Defect("reordered default ordering", "track-list", "$.results", _reverse_results),
    Defect("changed content type", "track-list", "header:content-type",
           headers=_header("content-type", "application/json; charset=utf-8")),
    # track detail
    Defect("added field", "track-detail", "$.isrc", _set(("isrc",), None)),
    Defect("renamed field", "track-detail", "$.duration_ms", _rename("duration_ms", "duration")),
    Defect("wrong nested object", "track-detail", "$.artist", _wrong_nested(("artist",), _other_artist)),
    Defect("decimal with another count of decimals", "track-detail", "$.price",
           _set(("price",), lambda v: v + "0")),
    Defect("datetime with milliseconds instead", "track-detail", "$.created_at",
           _set(("created_at",), lambda v: v[:-1] + ".000Z")),
    Defect("datetime: a second later and Z written as +00:00 (within the time tolerance)", "track-detail",
           "$.updated_at", _set(("updated_at",), lambda v: _offset(_next_second(v)))),
    Defect("changed status", "track-detail", "status", status=203),
    # post detail with comments
    Defect("wrong nested object in an embedded track", "post-detail", "$.tracks[*].artist",
           _wrong_nested(("tracks", 0, "artist"), _other_artist)),
    Defect("dropped embedded element", "post-detail", "$.tracks[*]", lambda doc, _: doc["tracks"].pop() and None),
    Defect("wrong comment author", "post-comments", "$.results[*].author",
           _wrong_nested(("results", 0, "author"), _other_author)),
    Defect("comment null vs missing", "post-comments", "$.results[*].edited_at",
           _delete(("results", 0, "edited_at"))),
    Defect("comment datetime with offset", "post-comments", "$.results[*].created_at",
           _set(("results", 0, "created_at"), _offset)),
    # status answers
    Defect("Location on another host", "redirect-301", "header:location", headers=lambda h: h.update(
        location=[OTHER_HOST + h["location"][0]])),
    Defect("301 answered as 302", "redirect-301", "status", status=302),
    Defect("404 answered as 400", "not-found-404", "status", status=400),
    Defect("404 detail message changed", "not-found-404", "$.detail",
           _set(("detail",), "Not found.")),
    Defect("Allow lacks a method", "not-allowed-405", "header:allow", headers=_header("allow", "GET, OPTIONS")),
    Defect("Allow missing", "not-allowed-405", "header:allow", headers=_header("allow", None)),
    Defect("WWW-Authenticate missing", "unauthorized-401", "header:www-authenticate",
           headers=_header("www-authenticate", None)),
    Defect("401 answered as 403", "unauthorized-401", "status", status=403),
    # search
    Defect("emptied search page", "search-page", "$.results", _set(("results",), [])),
    Defect("search count 0", "search-page", "$.count", _set(("count",), 0)),
    Defect("search hits that do not match the query", "search-page", "$.results[*]", _unmatched_hits),
    Defect("wrong nested object in a search hit", "search-page", "$.results[*].album", _wrong_hit_album),
    Defect("decimal as a number in a search hit", "search-page", "$.results[*].price",
           _wrong_nested(("results", 0, "price"), lambda v, _: float(v))),
    Defect("a whole-word hit missing from a whole result", "search-whole", "$.results[*]", _drop_whole_word_hit),
    Defect("emptied mixed search section", "search-mixed", "$.tracks.results", _set(("tracks", "results"), [])),
    Defect("mixed search section count 0", "search-mixed", "$.tracks.count", _set(("tracks", "count"), 0)),
]


def _candidate(answer: Answer, defect: Optional[Defect], answers: dict) -> ResponseSnapshot:
    legacy = answer.snapshot
    body = legacy.body
    if legacy.body:
        doc = answer.doc()
        if defect is not None and defect.body is not None:
            doc = copy.deepcopy(doc)
            changed = defect.body(doc, answers)
            doc = doc if changed is None else changed
        # re-serialised (keys sorted, no spaces): the bytes differ, so the JSON comparison always runs
        body = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    headers: dict[str, list[str]] = {}
    for name, value in legacy.headers:
        headers.setdefault(name, []).append(value)
    if name_change := (defect.headers if defect else None):
        name_change(headers)
    if "content-length" in headers:
        headers["content-length"] = [str(len(body))]
    status = defect.status if defect is not None and defect.status is not None else legacy.status
    return ResponseSnapshot(status, tuple((k, v) for k, values in headers.items() for v in values), body)


def _names(field: str, expected: str) -> bool:
    return field == expected or field.startswith(expected + ".") or field.startswith(expected + "[")


def verdict(defect: Defect, answers: dict) -> tuple[bool, str]:
    answer = answers[defect.answer]
    comparison = compare_responses(answer.snapshot, _candidate(answer, defect, answers), PROFILES[answer.profile],
                                   answer.query)
    fields = sorted(comparison.fields)
    caught = not comparison.matched and any(_names(f, defect.field) for f in fields)
    return caught, f"{'caught' if caught else 'MISSED'}: {defect.name} ({defect.answer}) -> {fields}"


@pytest.mark.django_db
@pytest.mark.parametrize("defect", DEFECTS, ids=[d.name for d in DEFECTS])
def test_every_defect_is_a_mismatch_naming_its_field(defect, answers):
    caught, line = verdict(defect, answers)
    assert caught, line


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["track-list", "track-detail", "post-detail", "post-comments", "redirect-301",
                                 "not-found-404", "not-allowed-405", "unauthorized-401", "search-page",
                                 "search-whole", "search-mixed"])
def test_every_unmutated_answer_matches(key, answers):
    answer = answers[key]
    comparison = compare_responses(answer.snapshot, _candidate(answer, None, answers), PROFILES[answer.profile],
                                   answer.query)
    assert comparison.matched, comparison.to_dict()


def _accepted(doc, answers):
    """What search parity accepts: another order, another (non-zero) count and page links, and an
    extra hit that matches the query."""
    query = answers["search-page"].query.split("=", 1)[1]
    shown = {hit["id"] for hit in doc["results"]}
    extra = next(t for t in answers["_every"].doc()
                 if t["id"] not in shown and query in re.findall(r"\w+", t["title"].lower()))
    doc["results"] = [extra] + list(reversed(doc["results"][1:]))  # its first hit is on another page
    doc["count"] += 7
    doc["next"] = _other_host(doc["next"]) + "&q=x"


@pytest.mark.django_db
def test_search_differences_parity_accepts(answers):
    answer = answers["search-page"]
    accepted = Defect("accepted", "search-page", "", _accepted)
    comparison = compare_responses(answer.snapshot, _candidate(answer, accepted, answers), PROFILES["search"],
                                   answer.query)
    assert comparison.matched, comparison.to_dict()
    assert any("legacy page of a larger result" in c for c in comparison.checks)
    assert any("match a query word" in c for c in comparison.checks)


@pytest.mark.django_db
def test_noise_does_not_hide_a_field_the_candidate_gets_wrong_far_more_often(answers):
    """`popularity` moves under concurrent listens: two legacy answers disagree on 1 request in 10.
    A candidate that also disagrees on 1 in 10 is noise; one that gets it wrong on every request is not."""
    answer = answers["track-detail"]
    profile = PROFILES["catalog"]
    moved = Defect("popularity moved", "track-detail", "", _set(("popularity",), _plus_one))

    def run(candidate_wrong_every: int) -> dict:
        report = ShadowReport()
        model = report.noise_model("catalog-read", profile.noise)
        for i in range(100):
            second = _candidate(answer, moved if i % 10 == 0 else None, answers)
            noise = compare_responses(answer.snapshot, second, profile)
            report.add({"type": "noise", "route": "catalog-read", "differences": [d.to_dict() for d in noise.differences]})
            candidate = _candidate(answer, moved if i % candidate_wrong_every == 0 else None, answers)
            comparison = compare_responses(answer.snapshot, candidate, profile)
            report.add({"type": "shadow", "route": "catalog-read", "result": model.classify(comparison.fields),
                        "differences": [d.to_dict() for d in comparison.differences]})
        return report.to_dict("catalog-read")["routes"]["catalog-read"]

    alike = run(10)
    assert alike["results"]["noise"] > 0 and alike["results"]["mismatch"] <= 2  # the first, before min_samples
    worse = run(1)
    assert worse["results"]["noise"] == 0 and worse["results"]["mismatch"] == 100
    (field,) = [f for f in worse["noisy_fields"] if f["field"] == "$.popularity"]
    assert (field["noise_rate"], field["candidate_rate"], field["noisy"]) == (0.1, 1.0, False)


@pytest.mark.django_db
def test_tally(answers, record_property):
    lines = [verdict(defect, answers) for defect in DEFECTS]
    caught = sum(1 for ok, _ in lines if ok)
    tally = f"defects caught: {caught} of {len(DEFECTS)} tried"
    print("\n" + "\n".join(line for _, line in lines) + "\n" + tally)
    record_property("defects_caught", caught)
    record_property("defects_tried", len(DEFECTS))
    assert caught == len(DEFECTS), tally
