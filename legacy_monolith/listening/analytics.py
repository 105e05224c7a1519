"""Analytics aggregates computed from listen events (straight SQL aggregates over the events table;
the analytics service will later serve these from its own store)."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from catalog.models import Album, Artist, Track
from listening.models import ListenEvent

DAILY_WINDOW_DAYS = 30
TOP_LIMIT = 10


def user_analytics(user: User) -> dict:
    events = ListenEvent.objects.filter(user=user)
    summary = events.summary()
    return {
        "user_id": user.pk,
        "plays": summary["plays"],
        "unique_tracks": summary["unique_tracks"],
        "total_listening_ms": summary["total_listening_ms"] or 0,
        "avg_completion": summary["avg_completion"],
        "last_played_at": summary["last_played_at"],
        "top_tracks": events.top_tracks(TOP_LIMIT),
        "top_artists": events.top_artists(TOP_LIMIT),
    }


def track_analytics(track: Track) -> dict:
    events = ListenEvent.objects.filter(track=track)
    summary = events.summary()
    return {
        "track_id": track.pk,
        "plays": summary["plays"],
        "unique_listeners": summary["unique_listeners"],
        "total_listening_ms": summary["total_listening_ms"] or 0,
        "avg_completion": summary["avg_completion"],
        "last_played_at": summary["last_played_at"],
        "plays_per_day": events.plays_per_day(DAILY_WINDOW_DAYS),
    }


def platform_analytics() -> dict:
    events = ListenEvent.objects.all()
    summary = events.summary()
    return {
        "users": User.objects.count(),
        "artists": Artist.objects.count(),
        "albums": Album.objects.count(),
        "tracks": Track.objects.count(),
        "plays": summary["plays"],
        "unique_listeners": summary["unique_listeners"],
        "plays_last_24h": events.filter(played_at__gte=timezone.now() - timedelta(hours=24)).count(),
        "top_tracks": events.top_tracks(TOP_LIMIT),
        "top_artists": events.top_artists(TOP_LIMIT),
    }
