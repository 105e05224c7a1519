"""CI replay of the committed regression corpus (tests/replay/corpus/, recorded from the demo data
by tests/replay/record_corpus.py through the proxy's recorder): every recorded read replayed
against the monolith and the new service, under the route's compare profile from proxy/routes.yaml,
through the CLI as an engineer runs it. Zero mismatches, and the replay really compared them all."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from proxy.corpus.store import read_entries
from tests.replay.demo_stack import CORPUS, ROOT

SAFE = ("GET", "HEAD", "OPTIONS")


@pytest.mark.parametrize("route,service", [("catalog-read", "catalog"), ("search", "search")])
def test_corpus_replays_without_a_mismatch(replay_stack, route, service, tmp_path):
    entries = list(read_entries(CORPUS, route))
    reads = [e for e in entries if e["method"] in SAFE]
    assert len(reads) >= 50, "the committed corpus lost its lines"
    html = tmp_path / "report.html"
    out = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "--file", str(ROOT / "proxy" / "routes.yaml"), "replay", str(CORPUS),
         "--route", route, "--legacy", replay_stack["monolith"].url, "--candidate", replay_stack[service].url,
         "--json", "--html", str(html), "--top", "20",
         "--cdc-wait", "0"],  # static snapshot copies, no CDC feed: nothing to wait for
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PROXY_REPLAY_TOKEN": replay_stack["token"]})
    data = json.loads(out.stdout)
    summary, report = data["replay"], data["routes"][route]
    assert report["results"]["mismatch"] == 0, json.dumps(report["top_fields"], indent=2)
    assert report["results"]["error"] == 0 and report["results"]["timeout"] == 0, report["last_errors"]
    assert summary["compared"] == report["compared"] == len(reads), summary
    assert summary["status_drift"] == 0, summary["status_drift_examples"]  # legacy answers as when recorded
    assert out.returncode == 0, out.stderr
    assert "Shadow comparison report" in html.read_text()


def test_writes_in_the_corpus_are_not_replayed_without_allow_writes(replay_stack):
    writes = [e for e in read_entries(CORPUS, "catalog-write")]
    assert writes and all(e["body_format"] == "json" for e in writes)
    out = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "--file", str(ROOT / "proxy" / "routes.yaml"), "replay", str(CORPUS),
         "--route", "catalog-write", "--legacy", replay_stack["monolith"].url,
         "--candidate", replay_stack["catalog"].url, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    summary = json.loads(out.stdout)["replay"]
    assert summary["skipped_writes"] == len(writes) and summary["replayed"] == 0
    assert out.returncode == 1  # nothing compared is not a pass
