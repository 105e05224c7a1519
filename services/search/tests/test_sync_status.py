"""The search service's /internal/sync-status: the CDC feed's status and its applied position (the
carve kit's rule over the progress IndexApplier keeps in memory), behind the internal token; what
CDC-aware shadowing waits on (proxy/shadow/cdc_wait.py)."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cdc.consumer import ChangeEvent
from services.search.app import build_app
from services.search.cdc_consumer import IndexApplier


class FakeFeed:
    def __init__(self, settings, indexer):
        self.asked = []

    def start(self):
        pass

    def stop(self):
        pass

    def problem(self):
        return None

    def status(self):
        return {"consumer": "search", "running": True}

    def position(self, settings):
        self.asked.append(settings.topic_prefix)
        return {"lsn_int": 42, "lsn": "0/2A", "tables": {"catalog_track": 42}}


@pytest.fixture
def internal_client(loaded, settings):
    app = build_app(settings, backend=loaded.backend, replica=loaded.replica, feed_factory=FakeFeed)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, settings


def test_position_behind_the_internal_token(internal_client):
    client, settings = internal_client
    assert client.get("/internal/sync-status?position=true").status_code == 401
    assert client.get("/internal/sync-status", headers={"X-Internal-Token": "wrong"}).status_code == 401
    answer = client.get("/internal/sync-status?position=true", headers={"X-Internal-Token": settings.internal_token})
    assert answer.status_code == 200
    assert answer.json()["position"]["lsn_int"] == 42
    assert answer.json()["consumer"]["running"] is True


def _event(topic, partition, offset, lsn):
    return ChangeEvent(topic, partition, offset, {"id": 1}, "u", None, None, lsn, None, None, None, None)


def test_the_applier_keeps_what_it_applied_per_partition():
    applier = IndexApplier.__new__(IndexApplier)   # only the bookkeeping, no index
    applier.progress, applier.epoch = {}, None
    for event in (_event("vobe.public.catalog_track", 0, 5, 100), _event("vobe.public.catalog_track", 0, 4, 90),
                  _event("vobe.cdc.heartbeat", 0, 9, 120), _event("vobe.public.catalog_track", 0, 6, None)):
        applier._record(event)
    track = applier.progress[("vobe.public.catalog_track", 0)]
    assert (track.offset, track.lsn) == (6, 100)       # a later offset without an LSN keeps the last LSN
    assert applier.progress[("vobe.cdc.heartbeat", 0)].lsn == 120
