"""The WAL position stamp (vobemusic/wal_position.py): asked for, it is the monolith's WAL position
read after the view's work (a write's commit is before it); not asked, no header and no query."""
from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cdc.lsn import lsn_to_int
from vobemusic.testing import make_artist, make_track, make_user

ASK = {"HTTP_X_VOBE_WANT_WAL_LSN": "1"}


def current_lsn() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return lsn_to_int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_asked_the_response_carries_a_position_at_or_after_the_write():
    admin = make_user(username="lsn-admin", role="admin")
    artist = make_artist(name="LSN artist")
    client = APIClient()
    client.force_authenticate(admin)
    before = current_lsn()
    response = client.post("/api/v1/tracks/", {"title": "Stamped", "artist_id": artist.id, "duration_ms": 200000},
                           format="json", **ASK)
    assert response.status_code == 201, response.content
    stamped = lsn_to_int(response["X-Vobe-Wal-Lsn"])
    assert before < stamped <= current_lsn()   # the insert's WAL is before the stamp


@pytest.mark.django_db(transaction=True)
def test_not_asked_no_header_and_no_extra_query():
    make_track(make_artist(name="Quiet"), title="Quiet song")
    client = APIClient()
    with CaptureQueriesContext(connection) as plain:
        response = client.get("/api/v1/tracks/")
    assert "X-Vobe-Wal-Lsn" not in response
    with CaptureQueriesContext(connection) as asked:
        stamped = client.get("/api/v1/tracks/", **ASK)
    assert "X-Vobe-Wal-Lsn" in stamped
    assert len(asked) == len(plain) + 1


@pytest.mark.django_db(transaction=True)
def test_cost_of_the_stamp_per_request(capsys):
    """Rough figure for docs/proxy.md: the same read with and without the stamp."""
    make_track(make_artist(name="Cost"), title="Cost song")
    client = APIClient()
    figures = {}
    for label, extra in (("plain", {}), ("stamped", ASK), ("plain again", {}), ("stamped again", ASK)):
        client.get("/api/v1/genres/", **extra)
        started = time.perf_counter()
        for _ in range(200):
            client.get("/api/v1/genres/", **extra)
        figures[label] = (time.perf_counter() - started) / 200 * 1e6
    with connection.cursor() as cursor:
        started = time.perf_counter()
        for _ in range(1000):
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            cursor.fetchone()
        figures["the query alone"] = (time.perf_counter() - started) / 1000 * 1e6
    with capsys.disabled():
        print("\nWAL stamp cost, us per request: " + ", ".join(f"{k} {v:.0f}" for k, v in figures.items()))
