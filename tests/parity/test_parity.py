"""Parity: every generated catalog request is sent to the monolith and to the catalog service
(directly, both real HTTP servers) and the answers are compared with the proxy's comparison engine
under the catalog route's compare profile. Zero unexplained mismatches.

Agreement alone is not parity: both sides answering 401 to every write would agree. So the suite
also asserts that every request it marks as mutating succeeded (2xx) on legacy, and a minimum
count per status class and per status the requests are built to provoke.

CDC: here both sides take the suite's writes themselves (no CDC between them), so there is no
replica lag to wait for. Pointed at a CDC-fed candidate (`PARITY_CDC_WAIT=SECONDS`), the suite asks
legacy for its WAL position (X-Vobe-Want-Wal-Lsn) and waits for the candidate's applied position
before each candidate request, with the shadow worker's wait (proxy.shadow.cdc_wait.CandidateWait);
a candidate still behind is a failure (`lagging`), never compared.

    .venv/bin/python -m pytest tests/parity -q
"""
from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path
from typing import Optional

import httpx

from proxy.compare.engine import ResponseSnapshot, compare_responses
from proxy.shadow.cdc_wait import CandidateWait, snapshot_lsn
from tests.parity.catalog_requests import CatalogRequest, catalog_requests

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_HOST = "localhost:8080"      # what the proxy's clients use; both sides must build links from it


# The suite's writes are executed by both systems, each stamping its own created_at/updated_at;
# the shadow profile (routes.yaml) has no tolerance since its mirrors wait for CDC instead.
PARITY_TOLERANCE = {"$..updated_at": 1, "$..created_at": 1}


def catalog_profile():
    from ruamel.yaml import YAML

    from proxy.compare.profiles import load_profiles

    document = YAML(typ="safe", pure=True).load((ROOT / "proxy" / "routes.yaml").read_text(encoding="utf-8"))
    profiles = dict(document["compare_profiles"])
    profiles["catalog-parity"] = {"extends": "catalog", "time_tolerance": PARITY_TOLERANCE}
    return load_profiles(profiles)["catalog-parity"]


# At least this many answers per status class and per status the requests are built to provoke;
# fewer means the setup is broken (tokens, data, a side down). A healthy run (548 requests):
# 200: 328, 201: 6, 204: 3, 301: 5, 400: 90, 401: 23, 403: 16, 404: 61, 405: 10, 406/415: 1, 500: 4.
MIN_PER_CLASS = {"2xx": 250, "3xx": 4, "4xx": 150}
MIN_PER_STATUS = {200: 250, 201: 4, 204: 3, 301: 4, 400: 60, 401: 15, 403: 8, 404: 30, 405: 8}
CDC_WAIT = float(os.environ.get("PARITY_CDC_WAIT", "0"))
WANT_WAL_LSN = {"X-Vobe-Want-Wal-Lsn": "1"}


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def check_status_mix(statuses: Counter, mutating: list[tuple[str, int]]) -> list[str]:
    """What is wrong with the answers legacy gave, beyond agreement with the candidate."""
    problems = [f"mutating request not 2xx on legacy: {describe} -> {status}"
                for describe, status in mutating if not 200 <= status < 300]
    classes = Counter()
    for status, n in statuses.items():
        classes[status_class(status)] += n
    problems += [f"only {classes[c]} {c} answers (at least {n} expected)"
                 for c, n in MIN_PER_CLASS.items() if classes[c] < n]
    problems += [f"only {statuses[code]} answers {code} (at least {n} expected)"
                 for code, n in MIN_PER_STATUS.items() if statuses[code] < n]
    return problems


def test_the_status_checks_catch_a_broken_token_setup():
    healthy = Counter({200: 328, 201: 6, 204: 3, 301: 5, 400: 90, 401: 23, 403: 16, 404: 61, 405: 10})
    assert check_status_mix(healthy, [("POST /api/v1/genres/", 201)]) == []
    # every write answered 401 by both sides: agreement, but no parity
    broken = healthy - Counter({201: 6, 204: 3, 403: 16}) + Counter({401: 25})
    problems = check_status_mix(broken, [("POST /api/v1/genres/", 401), ("DELETE /api/v1/tracks/2/", 401)])
    assert any("mutating request not 2xx on legacy: POST /api/v1/genres/ -> 401" in p for p in problems)
    assert any("answers 201" in p for p in problems) and any("answers 403" in p for p in problems)


def send(client: httpx.Client, base: str, request: CatalogRequest, extra: Optional[dict] = None) -> ResponseSnapshot:
    headers = {"Host": PUBLIC_HOST, **request.headers, **(extra or {})}
    response = client.request(request.method, base + request.path, headers=headers, json=request.json,
                              content=request.body) if request.body is not None or request.json is None else \
        client.request(request.method, base + request.path, headers=headers, content=_json_bytes(request.json))
    return ResponseSnapshot.from_raw(response.status_code, response.headers.raw, response.content)


def _json_bytes(value) -> bytes:
    import json

    return json.dumps(value).encode()


def test_catalog_parity(parity_env, actors):
    profile = catalog_profile()
    requests = catalog_requests(actors)
    assert len(requests) > 400
    mismatches, statuses, mutating = [], Counter(), []
    waiting = CandidateWait(wait=CDC_WAIT) if CDC_WAIT else None
    # Pooled connections expire before uvicorn's 5 s keep-alive timeout: a slow monolith answer
    # in between must not leave the client writing to a connection the service just closed.
    with httpx.Client(timeout=30, follow_redirects=False, limits=httpx.Limits(keepalive_expiry=2)) as client:
        for request in requests:
            legacy = send(client, parity_env["monolith"].url, request, WANT_WAL_LSN if waiting else None)
            if waiting is not None:
                lagging = asyncio.run(waiting.until(snapshot_lsn(legacy), parity_env["catalog"].url))
                if lagging:
                    mismatches.append((request.describe(), f"lagging: {lagging}", b"", b""))
                    continue
            candidate = send(client, parity_env["catalog"].url, request)
            statuses[legacy.status] += 1
            if request.mutates:
                mutating.append((request.describe(), legacy.status))
            comparison = compare_responses(legacy, candidate, profile)
            if not comparison.matched:
                mismatches.append((request.describe(), [d.to_dict() for d in comparison.differences][:3],
                                   legacy.body[:300], candidate.body[:300]))
    print(f"\nparity: {len(requests)} requests, statuses {dict(sorted(statuses.items()))}, "
          f"{len(mismatches)} mismatches")
    for mismatch in mismatches[:40]:
        print(mismatch)
    assert len(mutating) >= 10, f"only {len(mutating)} mutating requests"
    problems = check_status_mix(statuses, mutating)
    assert not problems, problems
    assert not mismatches, f"{len(mismatches)} of {len(requests)} requests differ"
