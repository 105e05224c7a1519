"""CDC-aware shadowing (proxy/shadow/cdc_wait.py): a mirror to a CDC-fed candidate waits until the
candidate's applied position reaches the WAL position legacy's answer carries; a candidate that
does not get there in time is `lagging`, not a mismatch; one that does is compared. The header is
never relayed to clients. In-process: the runner with a scripted candidate and position source."""
from __future__ import annotations

import asyncio

import orjson
import pytest

from proxy.metrics import ShadowMetrics
from proxy.routing.table import RouteTableError, parse_route_table
from proxy.serving.request_headers import response_headers
from proxy.shadow.cdc_wait import CdcWaits, PositionWatch, covered, int_to_lsn, legacy_lsn, lsn_to_int
from proxy.shadow.comparison_pool import ComparisonPool
from proxy.shadow.exchange import MirroredRequest, ShadowRunner
from proxy.shadow.recorder import ShadowRecorder

TABLE = """
version: 1
upstreams:
  legacy: {url: "http://127.0.0.1:9"}
  catalog:
    url: "http://127.0.0.1:9"
    cdc: {wait: 0.4, poll_interval: 0.02}
routes:
  - name: catalog-read
    path: ^/api/v1/tracks
    mode: shadow
    target: catalog
    compare: default
    shadow: {noise_sample: 0}
  - name: catalog-tables
    path: ^/api/v1/genres
    mode: shadow
    target: catalog
    compare: default
    shadow: {noise_sample: 0, cdc_wait: 0.3, cdc_tables: [catalog_genre]}
compare_profiles:
  default: {compare_status: true, headers: [content-type]}
"""


class FakeUpstream:
    def __init__(self, name, spec):
        self.name, self.spec = name, spec


class FakeForwarder:
    """The candidate's answer: what the candidate's replica holds right now."""

    def __init__(self):
        self.body = b'{"title": "old"}'
        self.legacy_body = b'{"title": "new"}'      # legacy asked again answers this
        self.calls = 0
        self.legacy_calls = 0

    async def fetch(self, upstream, method, scope, headers, body, timeout, limit):
        if upstream.name == "legacy":
            self.legacy_calls += 1
            return 200, [(b"content-type", b"application/json"), (b"x-vobe-wal-lsn", b"0/9000")], self.legacy_body
        self.calls += 1
        return 200, [(b"content-type", b"application/json")], self.body


class Positions:
    """A scripted sync-status: the candidate's applied position, moved by the test."""

    def __init__(self, lsn: int, tables=None):
        self.lsn, self.tables, self.asked = lsn, tables or {}, 0

    async def __call__(self, target: int) -> dict:
        self.asked += 1
        self.target = target
        await asyncio.sleep(0.005)
        return {"lsn_int": self.lsn, "lsn": int_to_lsn(self.lsn), "tables": {"catalog_genre": self.lsn, **self.tables}}


def mirror(path: str, lsn: str | None, body: bytes = b'{"title": "new"}') -> MirroredRequest:
    headers = [(b"content-type", b"application/json")] + ([(b"x-vobe-wal-lsn", lsn.encode())] if lsn else [])
    return MirroredRequest("catalog-read" if path.startswith("/api/v1/tracks") else "catalog-tables", "GET", path,
                           path.encode(), b"", [], b"", "rid", 200, headers, body, 1.0)


@pytest.fixture
def setup(tmp_path):
    table = parse_route_table(TABLE)
    metrics = ShadowMetrics()
    recorder = ShadowRecorder(tmp_path / "records.jsonl", metrics)
    forwarder = FakeForwarder()
    waits = CdcWaits(token="t")
    runner = ShadowRunner(forwarder, ComparisonPool(0), recorder, 1 << 20, waits)
    candidate = FakeUpstream("catalog", table.upstreams["catalog"])
    legacy = FakeUpstream("legacy", table.upstreams["legacy"])
    return table, runner, recorder, forwarder, waits, candidate, legacy


def install(waits: CdcWaits, candidate, positions: Positions) -> PositionWatch:
    watch = waits.watch(candidate)
    watch.source = positions
    return watch


def run(coro):
    return asyncio.run(coro)


def test_a_candidate_that_lags_is_lagging_not_mismatch(setup):
    table, runner, recorder, forwarder, waits, candidate, legacy = setup
    positions = Positions(lsn_to_int("0/1000"))  # its CDC stopped before legacy's write at 0/2000
    install(waits, candidate, positions)
    run(runner.run(mirror("/api/v1/tracks/1/", "0/2000"), table.route("catalog-read"), candidate, legacy))
    record = recorder.records()[0]
    assert record["result"] == "lagging", record
    assert record["cdc"]["legacy_lsn"] == "0/2000" and record["cdc"]["candidate_lsn"] == "0/1000"
    assert 350 <= record["cdc"]["waited_ms"] < 1500
    assert forwarder.calls == 0                       # not even asked: its answer would be stale
    assert positions.asked >= 3                       # polled while waiting
    assert recorder.report.to_dict("catalog-read")["routes"]["catalog-read"]["results"].get("mismatch", 0) == 0


def test_a_candidate_that_catches_up_is_compared(setup):
    table, runner, recorder, forwarder, waits, candidate, legacy = setup
    positions = Positions(lsn_to_int("0/1000"))
    install(waits, candidate, positions)

    async def scenario():
        async def catch_up():
            await asyncio.sleep(0.1)
            positions.lsn = lsn_to_int("0/2400")      # the change at 0/2000 applied
            forwarder.body = b'{"title": "new"}'
        await asyncio.gather(catch_up(), runner.run(mirror("/api/v1/tracks/1/", "0/2000"),
                                                    table.route("catalog-read"), candidate, legacy))
    run(scenario())
    record = recorder.records()[0]
    assert record["result"] == "match", record
    assert 50 <= record["cdc"]["waited_ms"] < 400 and record["cdc"]["candidate_lsn"] == "0/2400"


def test_a_caught_up_candidate_differing_is_a_mismatch(setup):
    table, runner, recorder, forwarder, waits, candidate, legacy = setup
    install(waits, candidate, Positions(lsn_to_int("0/3000")))
    run(runner.run(mirror("/api/v1/tracks/1/", "0/2000"), table.route("catalog-read"), candidate, legacy))
    assert recorder.records()[0]["result"] == "mismatch"


def test_a_candidate_ahead_of_legacys_answer_is_settled_by_asking_legacy_again(setup):
    """The wait bounds the candidate from below only: a row written after legacy answered may be in
    the candidate's answer. Legacy asked again then answers as the candidate did: a match."""
    table, runner, recorder, forwarder, waits, candidate, legacy = setup
    install(waits, candidate, Positions(lsn_to_int("0/3000")))
    forwarder.body = forwarder.legacy_body = b'{"title": "newer"}'
    run(runner.run(mirror("/api/v1/tracks/1/", "0/2000"), table.route("catalog-read"), candidate, legacy))
    record = recorder.records()[0]
    assert record["result"] == "match", record
    assert record["cdc"]["settled"].startswith("legacy answered again") and record["cdc"]["differences_first"]
    assert forwarder.legacy_calls == 1


def test_data_moving_under_both_is_lagging_not_mismatch(setup):
    table, runner, recorder, forwarder, waits, candidate, legacy = setup
    install(waits, candidate, Positions(lsn_to_int("0/3000")))
    forwarder.body, forwarder.legacy_body = b'{"title": "newer"}', b'{"title": "newest"}'
    run(runner.run(mirror("/api/v1/tracks/1/", "0/2000"), table.route("catalog-read"), candidate, legacy))
    assert recorder.records()[0]["result"] == "lagging"


def test_a_match_does_not_ask_legacy_again(setup):
    table, runner, recorder, forwarder, waits, candidate, legacy = setup
    install(waits, candidate, Positions(lsn_to_int("0/3000")))
    forwarder.body = b'{"title": "new"}'
    run(runner.run(mirror("/api/v1/tracks/1/", "0/2000"), table.route("catalog-read"), candidate, legacy))
    assert recorder.records()[0]["result"] == "match" and forwarder.legacy_calls == 0


def test_one_poll_serves_many_waiters_and_a_known_position_none(setup):
    table, runner, recorder, forwarder, waits, candidate, legacy = setup
    positions = Positions(lsn_to_int("0/1000"))
    install(waits, candidate, positions)
    forwarder.body = b'{"title": "new"}'

    async def scenario():
        async def catch_up():
            await asyncio.sleep(0.05)
            positions.lsn = lsn_to_int("0/5000")
        await asyncio.gather(catch_up(), *(runner.run(mirror("/api/v1/tracks/1/", f"0/{0x2000 + i:X}"),
                                                      table.route("catalog-read"), candidate, legacy)
                                           for i in range(20)))
        asked = positions.asked
        await runner.run(mirror("/api/v1/tracks/1/", "0/4000"), table.route("catalog-read"), candidate, legacy)
        return asked
    asked = run(scenario())
    assert [r["result"] for r in recorder.records()] == ["match"] * 21
    assert asked <= 8                          # 20 mirrors, a handful of polls (0.02 s apart)
    assert positions.asked == asked            # below the last position seen: no poll at all


def test_route_tables_and_per_route_wait(setup):
    table, runner, recorder, forwarder, waits, candidate, legacy = setup
    # catalog_genre is applied up to 0/3000 while the domain overall (a busy track partition) is not
    install(waits, candidate, Positions(lsn_to_int("0/1000"), {"catalog_genre": lsn_to_int("0/3000")}))
    forwarder.body = b'{"title": "new"}'
    run(runner.run(mirror("/api/v1/genres/", "0/2000"), table.route("catalog-tables"), candidate, legacy))
    assert recorder.records()[0]["result"] == "match"
    install(waits, candidate, Positions(lsn_to_int("0/1000"), {"catalog_genre": lsn_to_int("0/1000")}))
    waits.watches["catalog"][1].position = None
    run(runner.run(mirror("/api/v1/genres/", "0/2000"), table.route("catalog-tables"), candidate, legacy))
    lagging = recorder.records()[0]
    assert lagging["result"] == "lagging" and 250 <= lagging["cdc"]["waited_ms"] < 1200   # cdc_wait 0.3


def test_without_legacy_position_compares_and_says_so(setup):
    table, runner, recorder, forwarder, waits, candidate, legacy = setup
    install(waits, candidate, Positions(0))
    forwarder.body = b'{"title": "new"}'
    run(runner.run(mirror("/api/v1/tracks/1/", None), table.route("catalog-read"), candidate, legacy))
    record = recorder.records()[0]
    assert record["result"] == "match" and record["cdc"]["legacy_lsn"] is None


def test_helpers():
    assert legacy_lsn([(b"X-Vobe-Wal-Lsn", b"16/B374D848")]) == 97500059720
    assert legacy_lsn([(b"x-vobe-wal-lsn", b"garbage")]) is None
    assert not covered({"lsn_int": 5, "tables": {"a": 9}}, 6, None)
    assert covered({"lsn_int": 5, "tables": {"a": 9}}, 6, ("a",))
    assert not covered({"lsn_int": 5, "tables": {"a": 9}}, 6, ("a", "b"))   # unknown is never caught up
    assert response_headers([(b"X-Vobe-Wal-Lsn", b"0/1"), (b"Content-Type", b"x")]) == [(b"content-type", b"x")]


@pytest.mark.parametrize("bad, message", [
    ("    shadow: {cdc_wait: 1}\n", "need a target upstream with `cdc`"),
    ("    shadow: {cdc_tables: [Bad-Name]}\n", "is not a table name"),
    ("    shadow: {cdc_wait: -1}\n", "greater than or equal"),
])
def test_new_keys_are_validated(bad, message):
    text = ("version: 1\nupstreams:\n  legacy: {url: 'http://127.0.0.1:9'}\n  search: {url: 'http://127.0.0.1:9'}\n"
            "routes:\n  - name: s\n    path: ^/s\n    mode: shadow\n    target: search\n" + bad)
    with pytest.raises(RouteTableError, match=message):
        parse_route_table(text)
    with pytest.raises(RouteTableError, match="cdc"):
        parse_route_table(text.replace("search: {url: 'http://127.0.0.1:9'}",
                                       "search: {url: 'http://127.0.0.1:9', cdc: {wait: 99}}"))


def test_position_answers_are_parsed():
    from proxy.shadow.cdc_wait import parse_position

    assert parse_position(200, orjson.dumps({"position": {"lsn_int": 7}}))["lsn_int"] == 7
    with pytest.raises(ValueError, match="HTTP 403"):
        parse_position(403, b"{}")
    with pytest.raises(ValueError, match="no position"):
        parse_position(200, b'{"domain": "catalog"}')


def test_candidate_wait_by_url_for_replay_and_parity():
    from proxy.compare import ResponseSnapshot
    from proxy.shadow.cdc_wait import CandidateWait

    wait = CandidateWait(wait=0.2, poll_interval=0.02, token="t")
    positions = Positions(lsn_to_int("0/1000"))
    wait.watch("http://candidate").source = positions
    ahead = ResponseSnapshot(200, (("x-vobe-wal-lsn", "0/800"),), b"")
    behind = ResponseSnapshot(200, (("x-vobe-wal-lsn", "0/2000"),), b"")
    unstamped = ResponseSnapshot(200, (), b"")

    async def scenario():
        return [await wait(behind, "http://candidate"), await wait(ahead, "http://candidate"),
                await wait(unstamped, "http://candidate")]
    lagging, settled, unknown = run(scenario())
    assert lagging.startswith("candidate at 0/1000 had not applied legacy's 0/2000")
    assert settled is None and unknown is None
