"""Recording plays, history, and the analytics endpoints."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from listening.models import ListenEvent
from vobemusic.testing import make_artist, make_track

pytestmark = pytest.mark.django_db

LISTEN = "/api/v1/analytics/listen/"


@pytest.fixture
def track():
    return make_track(make_artist(name="Nova"), title="Blue", duration_ms=200_000)


def play(user, track, days_ago=0, played=200_000, completion="100.00"):
    return ListenEvent.objects.create(
        user=user, track=track, played_at=timezone.now() - timedelta(days=days_ago),
        play_duration_ms=played, completion_percentage=Decimal(completion),
    )


class TestListen:
    def test_records_play_and_computes_completion(self, user_api, user, track):
        response = user_api.post(LISTEN, {"track_id": track.pk, "play_duration_ms": 50_000, "platform": "ios"},
                                 format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["completion_percentage"] == "25.00"
        assert body["track"] == {"id": track.pk, "title": "Blue", "duration_ms": 200000, "popularity": 0,
                                 "artist": {"id": track.artist_id, "name": "Nova", "country": "", "image_url": ""}}
        assert set(body) == {"id", "track", "played_at", "play_duration_ms", "completion_percentage", "platform",
                             "device_type"}
        event = ListenEvent.objects.get()
        assert event.user == user and event.platform == "ios"

    def test_anonymous_is_401(self, anon, track):
        assert anon.post(LISTEN, {"track_id": track.pk, "play_duration_ms": 1}, format="json").status_code == 401

    @pytest.mark.parametrize("body, errors", [
        ({}, {"track_id": ["This field is required."], "play_duration_ms": ["This field is required."]}),
        ({"play_duration_ms": -1}, {"play_duration_ms": ["Ensure this value is greater than or equal to 0."]}),
        ({"completion_percentage": "100.5"},
         {"completion_percentage": ["Ensure this value is less than or equal to 100."]}),
        ({"platform": "fridge"}, {"platform": ['"fridge" is not a valid choice.']}),
        ({"play_duration_ms": 500_000}, {"play_duration_ms": ["Longer than twice the track's duration."]}),
        ({"played_at": "2999-01-01T00:00:00Z"}, {"played_at": ["A play cannot be in the future."]}),
    ])
    def test_validation(self, user_api, track, body, errors):
        if body:
            body = {"track_id": track.pk, "play_duration_ms": 1000, **body}
        response = user_api.post(LISTEN, body, format="json")
        assert response.status_code == 400
        assert response.json() == errors

    def test_unknown_track(self, user_api):
        response = user_api.post(LISTEN, {"track_id": 999999, "play_duration_ms": 10}, format="json")
        assert response.json() == {"track_id": ['Invalid pk "999999" - object does not exist.']}


class TestHistory:
    def test_only_own_plays_newest_first(self, user_api, user, other_user, track):
        older, newer = play(user, track, days_ago=2), play(user, track, days_ago=1)
        play(other_user, track)
        body = user_api.get("/api/v1/history/").json()
        assert body["count"] == 2
        assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]

    def test_paginated_and_filter_by_track(self, user_api, user, track):
        other = make_track()
        for n in range(21):
            play(user, track if n % 2 else other, days_ago=n)
        body = user_api.get("/api/v1/history/").json()
        assert body["count"] == 21 and body["next"] == "http://testserver/api/v1/history/?page=2"
        assert user_api.get(f"/api/v1/history/?track={track.pk}").json()["count"] == 10

    def test_anonymous_401(self, anon):
        assert anon.get("/api/v1/history/").status_code == 401


class TestAnalytics:
    def test_track_analytics_public(self, anon, user, other_user, track):
        play(user, track, days_ago=0, played=200_000, completion="100.00")
        play(user, track, days_ago=3, played=100_000, completion="50.00")
        play(other_user, track, days_ago=40, played=50_000, completion="25.00")
        body = anon.get(f"/api/v1/analytics/track/{track.pk}/").json()
        assert body["track_id"] == track.pk and body["plays"] == 3 and body["unique_listeners"] == 2
        assert body["avg_completion"] == "58.33" and body["total_listening_ms"] == 350_000
        days = body["plays_per_day"]
        assert len(days) == 30 and days[-1] == {"date": timezone.now().date().isoformat(), "plays": 1}
        assert sum(day["plays"] for day in days) == 2

    def test_track_without_plays(self, anon, track):
        body = anon.get(f"/api/v1/analytics/track/{track.pk}/").json()
        assert body["plays"] == 0 and body["avg_completion"] is None and body["last_played_at"] is None

    def test_track_analytics_404(self, anon):
        assert anon.get("/api/v1/analytics/track/999999/").status_code == 404

    def test_user_analytics_own_or_admin(self, anon, user_api, other_api, admin_api, user, track):
        play(user, track)
        url = f"/api/v1/analytics/user/{user.pk}/"
        assert anon.get(url).status_code == 401
        response = other_api.get(url)
        assert response.status_code == 403
        assert response.json() == {"detail": "You can only see your own listening analytics."}
        own = user_api.get(url).json()
        assert own["plays"] == 1 and own["top_tracks"][0]["track"]["id"] == track.pk
        assert own["top_artists"] == [{"artist_id": track.artist_id, "name": "Nova", "plays": 1}]
        assert admin_api.get(url).json() == own
        assert admin_api.get("/api/v1/analytics/user/999999/").status_code == 404

    def test_platform_admin_only(self, user_api, admin_api, user, track):
        play(user, track)
        assert user_api.get("/api/v1/analytics/platform/").status_code == 403
        body = admin_api.get("/api/v1/analytics/platform/").json()
        assert body["tracks"] == 1 and body["plays"] == 1 and body["plays_last_24h"] == 1
        assert body["top_tracks"][0]["plays"] == 1 and body["top_artists"][0]["name"] == "Nova"
