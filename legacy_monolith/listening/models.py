"""Play events: who played which track, when and for how long."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Avg, Count, Max, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Track


class ListenEventQuerySet(models.QuerySet):
    def summary(self) -> dict:
        """Totals over the events in this queryset."""
        return self.aggregate(
            plays=Count("id"),
            unique_listeners=Count("user_id", distinct=True),
            unique_tracks=Count("track_id", distinct=True),
            total_listening_ms=Sum("play_duration_ms"),
            avg_completion=Avg("completion_percentage"),
            last_played_at=Max("played_at"),
        )

    def plays_per_day(self, days: int, today=None) -> list[dict]:
        """One entry per calendar day (UTC) of the last ``days`` days, oldest first, zero days included."""
        today = today or timezone.now().date()
        first = today - timedelta(days=days - 1)
        counts = dict(
            self.filter(played_at__date__gte=first)
            .annotate(day=TruncDate("played_at"))
            .values_list("day")
            .annotate(plays=Count("id"))
            .values_list("day", "plays")
            .order_by()
        )
        return [{"date": first + timedelta(days=n), "plays": counts.get(first + timedelta(days=n), 0)}
                for n in range(days)]

    def top_tracks(self, limit: int = 10) -> list[dict]:
        rows = (
            self.values("track_id").annotate(plays=Count("id")).order_by("-plays", "track_id")[:limit]
        )
        tracks = Track.objects.select_related("artist").in_bulk([row["track_id"] for row in rows])
        return [{"track": tracks[row["track_id"]], "plays": row["plays"]} for row in rows]

    def top_artists(self, limit: int = 10) -> list[dict]:
        return list(
            self.values("track__artist_id", "track__artist__name")
            .annotate(plays=Count("id"))
            .order_by("-plays", "track__artist_id")[:limit]
        )


class ListenEvent(models.Model):
    class Platform(models.TextChoices):
        WEB = "web", "Web"
        IOS = "ios", "iOS"
        ANDROID = "android", "Android"
        DESKTOP = "desktop", "Desktop"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listens")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="listens")
    played_at = models.DateTimeField(db_index=True)
    play_duration_ms = models.PositiveIntegerField()
    completion_percentage = models.DecimalField(max_digits=5, decimal_places=2)
    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.WEB)
    device_type = models.CharField(max_length=32, blank=True)

    objects = ListenEventQuerySet.as_manager()

    class Meta:
        ordering = ["-played_at", "-id"]
        indexes = [models.Index(fields=["user", "-played_at"]), models.Index(fields=["track", "played_at"])]

    def __str__(self) -> str:
        return f"user {self.user_id} played track {self.track_id} at {self.played_at:%Y-%m-%d %H:%M}"
