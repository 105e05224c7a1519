"""Parity: every generated catalog request is sent to the monolith and to the catalog service
(directly, both real HTTP servers) and the answers are compared with the proxy's comparison engine
under the catalog route's compare profile. Zero unexplained mismatches.

    .venv/bin/python -m pytest tests/parity -q
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx

from proxy.compare.engine import ResponseSnapshot, compare_responses
from proxy.compare.profiles import load_profiles_file
from tests.parity.catalog_requests import CatalogRequest, catalog_requests

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_HOST = "localhost:8080"      # what the proxy's clients use; both sides must build links from it


def catalog_profile():
    return load_profiles_file(ROOT / "proxy" / "routes.yaml")["catalog"]


def send(client: httpx.Client, base: str, request: CatalogRequest) -> ResponseSnapshot:
    headers = {"Host": PUBLIC_HOST, **request.headers}
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
    mismatches, statuses = [], Counter()
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        for request in requests:
            legacy = send(client, parity_env["monolith"].url, request)
            candidate = send(client, parity_env["catalog"].url, request)
            statuses[legacy.status] += 1
            comparison = compare_responses(legacy, candidate, profile)
            if not comparison.matched:
                mismatches.append((request.describe(), [d.to_dict() for d in comparison.differences][:3],
                                   legacy.body[:300], candidate.body[:300]))
    print(f"\nparity: {len(requests)} requests, statuses {dict(sorted(statuses.items()))}, "
          f"{len(mismatches)} mismatches")
    for mismatch in mismatches[:40]:
        print(mismatch)
    assert not mismatches, f"{len(mismatches)} of {len(requests)} requests differ"
