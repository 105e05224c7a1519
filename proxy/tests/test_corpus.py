"""The regression corpus: scrubbing rules, the rotated store, recording through a real proxy (with
two serving processes), and replaying against legacy and a candidate."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import httpx
import jwt
import pytest

from proxy.compare import load_profiles
from proxy.corpus.recording import CorpusRecorder
from proxy.corpus.replay import ReplayOptions, replay, request_of
from proxy.corpus.scrub import Scrubber
from proxy.corpus.store import CorpusWriter, build_entry, read_entries
from proxy.routing.table import RouteTableError, parse_route_table
from proxy.tests.conftest import ROOT, wait_for

JWT_A = jwt.encode({"user_id": 7, "token_type": "access"}, "k" * 32, algorithm="HS256")
JWT_B = jwt.encode({"user_id": 8, "token_type": "refresh"}, "k" * 32, algorithm="HS256")


def test_placeholders_are_deterministic_keyed_and_reveal_nothing():
    one, same, other = Scrubber("s1"), Scrubber("s1"), Scrubber("s2")
    assert one.token(JWT_A) == same.token(JWT_A) != one.token(JWT_B)
    assert one.token(JWT_A) != other.token(JWT_A)  # keyed: without the secret, no dictionary attack
    assert one.email("Ann@Example.org") == one.email("ann@example.org")
    assert one.email("ann@example.org").endswith("@example.invalid")
    for placeholder in (one.token(JWT_A), one.email("ann@example.org"), one.secret("hunter2")):
        assert "ann" not in placeholder and "hunter2" not in placeholder and JWT_A[:20] not in placeholder
    assert one.email(one.email("ann@example.org")) == one.email("ann@example.org")  # idempotent


def test_scrubbing_rules_on_a_whole_entry():
    scrubber = Scrubber("test")
    body = json.dumps({"username": "ann", "password": "hunter2", "new_password": "s3cret!",
                       "refresh": JWT_B, "email": "ann@example.org",
                       "profile": {"contact": "write to bob@example.com", "api_key": 12345},
                       "note": f"token {JWT_A} pasted", "tags": ["x", "carol@example.net"]}).encode()
    headers = [(b"host", b"proxy"), (b"authorization", f"Bearer {JWT_A}".encode()),
               (b"cookie", b"sessionid=abc"), (b"content-type", b"application/json"),
               (b"x-forwarded-for", b"203.0.113.9, 10.0.0.1"), (b"x-forwarded-host", b"music.example.com"),
               (b"accept", b"application/json")]
    entry = build_entry(scrubber, "accounts", "POST", "/api/v1/users/ann@example.org/",
                        b"q=love&token=abc&email=dan%40example.org&page=2", headers, body, 201, "legacy",
                        "rid-1", 0.0)
    text = json.dumps(entry)
    for secret in ("hunter2", "s3cret!", JWT_A, JWT_B, "ann@example.org", "bob@example.com", "carol@example.net",
                   "dan@example.org", "dan%40example.org", "12345", "sessionid", "203.0.113.9", "abc"):
        assert secret not in text, secret
    assert entry["headers"]["authorization"] == f"Bearer {scrubber.token(JWT_A)}"
    assert set(entry["headers"]) == {"authorization", "content-type", "x-forwarded-for", "x-forwarded-host", "accept"}
    assert entry["headers"]["x-forwarded-host"] == "music.example.com"
    assert entry["body_format"] == "json"
    scrubbed = entry["body"]
    assert scrubbed["username"] == "ann"
    assert scrubbed["password"] == scrubber.secret("hunter2")
    assert scrubbed["refresh"] == scrubber.token(JWT_B)
    assert scrubbed["email"] == scrubber.email("ann@example.org")
    assert scrubbed["profile"]["contact"] == f"write to {scrubber.email('bob@example.com')}"
    assert scrubbed["note"] == f"token {scrubber.token(JWT_A)} pasted"
    assert entry["path"] == f"/api/v1/users/{scrubber.email('ann@example.org')}/"
    assert entry["query"].startswith("q=love&token=%3Csecret%3A") and entry["query"].endswith("&page=2")
    assert entry["status"] == 201 and entry["route"] == "accounts" and entry["method"] == "POST"
    # scrubbing a scrubbed entry changes nothing that matters for replay
    assert Scrubber("test").json(scrubbed) == scrubbed


def test_form_and_binary_bodies():
    scrubber = Scrubber()
    form = build_entry(scrubber, "r", "POST", "/login/", b"", [(b"content-type", b"application/x-www-form-urlencoded")],
                       b"username=ann&password=hunter2", 200, "legacy", "", 0.0)
    assert form["body_format"] == "form" and "hunter2" not in form["body"] and "username=ann" in form["body"]
    binary = build_entry(scrubber, "r", "PUT", "/f", b"", [(b"content-type", b"image/png")], b"\x89PNG\xff\x00",
                         200, "legacy", "", 0.0)
    assert binary["body_format"] == "omitted" and binary["body"] is None


def test_unchanged_query_keeps_its_encoding():
    assert Scrubber().query("q=caf%C3%A9&ordering=-popularity") == "q=caf%C3%A9&ordering=-popularity"


def test_store_rotates_and_caps_per_route(tmp_path):
    writer = CorpusWriter(tmp_path, max_file_bytes=4096, max_files=3)
    line = b"x" * 1000 + b"\n"
    for _ in range(40):
        writer.append("catalog-read", [line])
    writer.append("search", [b'{"route": "search"}\n'])
    files = sorted((tmp_path / "catalog-read").glob("*.jsonl"))
    assert len(files) == 3
    assert all(f.stat().st_size <= 4096 for f in files)
    assert [p.parent.name for p in (tmp_path / "search").glob("*.jsonl")] == ["search"]


def test_recorder_batches_off_the_loop(tmp_path):
    async def main():
        recorder = CorpusRecorder(tmp_path, "s", 1 << 20, 2, flush_seconds=0.05)
        for i in range(100):
            recorder.take("catalog-read", "GET", "/api/v1/tracks/", f"page={i}".encode(), [], b"", 200,
                          "legacy", str(i))
        assert recorder.written == 0  # nothing written in the request's loop step
        await asyncio.sleep(0.3)
        recorder.close()
        return recorder.written

    assert asyncio.run(main()) == 100
    entries = list(read_entries(tmp_path, "catalog-read"))
    assert [e["query"] for e in entries] == [f"page={i}" for i in range(100)]


def test_route_table_validates_the_sample_rate():
    base = ("version: 1\nupstreams: {legacy: {url: 'http://127.0.0.1:1'}}\n"
            "routes:\n  - {name: r, path: ^/, corpus: {sample: %s}}\n")
    assert parse_route_table(base % "0.25").routes[0].spec.corpus.sample == 0.25
    assert parse_route_table(base.replace(", corpus: {sample: %s}", "")).routes[0].spec.corpus.sample == 0.0
    for bad in ("1.5", "-0.1", "'often'"):
        with pytest.raises(RouteTableError, match="corpus.sample"):
            parse_route_table(base % bad)
    with pytest.raises(RouteTableError, match="corpus"):
        parse_route_table(base.replace("corpus: {sample: %s}", "corpus: {rate: 1}"))


def test_request_of_swaps_the_token_placeholder_or_drops_it():
    scrubber = Scrubber()
    entry = build_entry(scrubber, "r", "GET", "/api/v1/tracks/", b"page=2",
                        [(b"authorization", f"Bearer {JWT_A}".encode())], b"", 200, "legacy", "", 0.0)
    method, target, headers, body, anonymous = request_of(entry, "REAL")
    assert (method, target, headers, body, anonymous) == ("GET", "/api/v1/tracks/?page=2",
                                                          [("authorization", "Bearer REAL")], None, False)
    assert request_of(entry, None)[2:] == ([], None, True)


RECORDING_ROUTES = """\
version: 1
legacy: legacy
upstreams:
  legacy: {{url: "{legacy}"}}
  catalog: {{url: "{catalog}"}}
routes:
  - name: catalog-read
    path: ^/api/v1/tracks(/|$)
    methods: [GET, HEAD]
    mode: legacy
    target: catalog
    compare: tracks
    corpus: {{sample: 1.0}}
  - name: echo
    path: ^/echo
    mode: legacy
    corpus: {{sample: 1.0}}
  - name: default
    path: ^/
    mode: legacy
compare_profiles:
  tracks:
    ignore: [$.generated_at, $.served_by]
    array_keys: {{$.results: id}}
"""


def test_proxy_records_scrubbed_samples_and_replay_finds_the_regression(start_proxy, legacy, catalog, tmp_path):
    corpus = tmp_path / "corpus"
    proxy = start_proxy(legacy, catalog, routes_text=RECORDING_ROUTES.format(legacy=legacy.url, catalog=catalog.url),
                        extra_env={"PROXY_CORPUS_DIR": str(corpus), "PROXY_CORPUS_FLUSH_SECONDS": "0.1",
                                   "PROXY_CORPUS_SECRET": "test-secret"})
    auth = {"Authorization": f"Bearer {JWT_A}"}
    with httpx.Client(base_url=proxy.url, timeout=10) as client:
        for page in range(1, 11):
            assert client.get(f"/api/v1/tracks/?page={page}", headers=auth).status_code == 200
        response = client.post("/echo/login", json={"username": "ann", "password": "hunter2", "refresh": JWT_B,
                                                    "email": "ann@example.org"}, headers=auth)
        assert response.status_code == 200 and response.json()["body_bytes"] > 0  # the body still reached legacy
        client.post("/echo/stream", content=iter([b"a" * 10, b"b" * 10]))  # chunked: buffered for the sample

    wait_for(lambda: len(list(read_entries(corpus))) == 12, timeout=20, what="12 corpus entries")
    raw = "".join(p.read_text() for p in corpus.rglob("*.jsonl"))
    for secret in ("hunter2", JWT_A, JWT_B, "ann@example.org"):
        assert secret not in raw
    reads = list(read_entries(corpus, "catalog-read"))
    assert sorted(e["query"] for e in reads) == sorted(f"page={p}" for p in range(1, 11))
    assert len({e["headers"]["authorization"] for e in reads}) == 1  # same token, same placeholder
    assert all(e["status"] == 200 and e["answered_by"] == "legacy" and e["body"] is None for e in reads)
    writes = list(read_entries(corpus, "echo"))
    login = next(e for e in writes if e["path"] == "/echo/login")
    assert login["body"]["password"].startswith("<secret:") and login["body"]["username"] == "ann"
    assert next(e for e in writes if e["path"] == "/echo/stream")["body"] == "a" * 10 + "b" * 10

    profile = load_profiles({"tracks": {"ignore": ["$.generated_at", "$.served_by"],
                                        "array_keys": {"$.results": "id"}}})["tracks"]
    same = asyncio.run(replay(read_entries(corpus), ReplayOptions("catalog-read", legacy.url, legacy.url, profile,
                                                                  token="t")))
    assert same.compared == 10 and same.report.to_dict()["routes"]["catalog-read"]["results"]["mismatch"] == 0
    changed = asyncio.run(replay(read_entries(corpus), ReplayOptions("catalog-read", legacy.url, catalog.url,
                                                                     profile)))
    route = changed.to_dict()["routes"]["catalog-read"]
    assert changed.compared == 10 and route["results"]["mismatch"] == 10
    assert route["top_fields"][0]["field"] == "$.results[*].title"

    # the CLI: writes skipped without --allow-writes, text / JSON / HTML reports, exit status
    html = tmp_path / "report.html"
    routes_file = proxy.routes_file
    cli = [sys.executable, "-m", "proxy.cli", "--file", str(routes_file), "replay", str(corpus)]
    env = {**os.environ, "PROXY_REPLAY_TOKEN": "t"}
    out = subprocess.run([*cli, "--route", "echo", "--candidate", legacy.url, "--json"], cwd=ROOT,
                         capture_output=True, text=True, env=env, timeout=60)
    data = json.loads(out.stdout)
    assert data["replay"]["skipped_writes"] == 2 and data["replay"]["compared"] == 0 and out.returncode == 1
    out = subprocess.run([*cli, "--route", "catalog-read", "--candidate", catalog.url, "--html", str(html)],
                         cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 1 and "10 compared" in out.stdout and "$.results[*].title" in out.stdout, out.stdout
    assert "Track two" in html.read_text()
    out = subprocess.run([*cli, "--route", "catalog-read", "--candidate", legacy.url], cwd=ROOT,
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_replay_waits_through_the_cdc_hook_and_records_lagging(start_upstream):
    echo = start_upstream("legacy")
    scrubber = Scrubber()
    entries = [build_entry(scrubber, "echo", "GET", f"/echo/{i}", b"", [(b"accept", b"application/json")], b"",
                           200, "legacy", str(i), 0.0) for i in range(4)]
    seen = []

    async def wait(legacy_answer, candidate_url):
        asked = dict(map(tuple, json.loads(legacy_answer.body)["headers"]))
        seen.append((asked.get("x-vobe-want-wal-lsn"), asked.get("x-vobe-replay"), candidate_url))
        return "position 0/16 not applied within 2 s" if len(seen) % 2 else None

    profile = load_profiles({"echo": {"ignore": ["$.n", "$.at", "$.headers"]}})["echo"]
    result = asyncio.run(replay(entries, ReplayOptions("echo", echo.url, echo.url, profile, concurrency=1,
                                                       wait_for_candidate=wait)))
    assert seen == [("1", "1", echo.url)] * 4
    route = result.to_dict()["routes"]["echo"]
    assert result.compared == 2 and route["results"]["match"] == 2 and route["results"]["skipped"] == 2
    assert all(e["error"].startswith("lagging: ") for e in route["last_errors"])


def test_cli_replay_uses_the_shadow_workers_cdc_wait_as_the_table_sets_it():
    from proxy.cli import _replay_cdc_wait
    from proxy.shadow.cdc_wait import CandidateWait

    table = parse_route_table(
        "version: 1\nupstreams:\n  legacy: {url: 'http://127.0.0.1:1'}\n"
        "  catalog: {url: 'http://127.0.0.1:2', cdc: {wait: 3, poll_interval: 0.2}}\n"
        "  plain: {url: 'http://127.0.0.1:3'}\n"
        "routes:\n  - {name: fed, path: ^/a, mode: shadow, target: catalog, shadow: {cdc_tables: [catalog_track]}}\n"
        "  - {name: tuned, path: ^/b, mode: shadow, target: catalog, shadow: {cdc_wait: 0.5}}\n"
        "  - {name: static, path: ^/c, mode: shadow, target: plain}\n")
    fed = _replay_cdc_wait(table, table.route("fed"), None)
    assert isinstance(fed, CandidateWait) and (fed.wait, fed.tables, fed.poll_interval) == (3, ("catalog_track",), 0.2)
    assert _replay_cdc_wait(table, table.route("tuned"), None).wait == 0.5
    assert _replay_cdc_wait(table, table.route("fed"), 0) is None  # --cdc-wait 0
    assert _replay_cdc_wait(table, table.route("static"), None) is None
    assert _replay_cdc_wait(table, table.route("static"), 1.5).wait == 1.5
