"""Play events: who played which track, when and for how long."""
from django.conf import settings
from django.db import models

from catalog.models import Track


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

    class Meta:
        ordering = ["-played_at", "-id"]
        indexes = [models.Index(fields=["user", "-played_at"]), models.Index(fields=["track", "played_at"])]
