"""Listen events in and out, and the analytics payloads."""
from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from rest_framework import serializers

from catalog.models import Track
from catalog.serializers import TrackSummarySerializer
from listening.models import ListenEvent

# Clients report a play a little after it ends; a small allowance avoids rejecting clock skew.
FUTURE_SKEW = timedelta(minutes=5)
HISTORY_LIMIT = timedelta(days=365)


class ListenEventSerializer(serializers.ModelSerializer):
    """POST body: ``track_id``, ``play_duration_ms`` (required); ``completion_percentage`` is computed
    from the track's duration when omitted; ``played_at`` defaults to now."""

    track = TrackSummarySerializer(read_only=True)
    track_id = serializers.PrimaryKeyRelatedField(source="track", queryset=Track.objects.all(), write_only=True)
    play_duration_ms = serializers.IntegerField(min_value=0)
    completion_percentage = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), required=False
    )
    played_at = serializers.DateTimeField(required=False)

    class Meta:
        model = ListenEvent
        fields = [
            "id", "track", "track_id", "played_at", "play_duration_ms",
            "completion_percentage", "platform", "device_type",
        ]

    def validate_played_at(self, value):
        now = timezone.now()
        if value > now + FUTURE_SKEW:
            raise serializers.ValidationError("A play cannot be in the future.")
        if value < now - HISTORY_LIMIT:
            raise serializers.ValidationError("Plays older than a year are not accepted.")
        return value

    def validate(self, attrs):
        track: Track = attrs["track"]
        played = attrs["play_duration_ms"]
        # A play may run slightly past the nominal duration (gapless playback, seeking), not beyond double.
        if played > track.duration_ms * 2:
            raise serializers.ValidationError({"play_duration_ms": ["Longer than twice the track's duration."]})
        if "completion_percentage" not in attrs:
            ratio = Decimal(min(played, track.duration_ms) * 100) / Decimal(track.duration_ms)
            attrs["completion_percentage"] = ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        attrs.setdefault("played_at", timezone.now())
        return attrs


class TopTrackSerializer(serializers.Serializer):
    track = TrackSummarySerializer()
    plays = serializers.IntegerField()


class TopArtistSerializer(serializers.Serializer):
    artist_id = serializers.IntegerField(source="track__artist_id")
    name = serializers.CharField(source="track__artist__name")
    plays = serializers.IntegerField()


class DailyPlaysSerializer(serializers.Serializer):
    date = serializers.DateField()
    plays = serializers.IntegerField()


def _completion(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


class UserAnalyticsSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    plays = serializers.IntegerField()
    unique_tracks = serializers.IntegerField()
    total_listening_ms = serializers.IntegerField()
    avg_completion = serializers.SerializerMethodField()
    last_played_at = serializers.DateTimeField(allow_null=True)
    top_tracks = TopTrackSerializer(many=True)
    top_artists = TopArtistSerializer(many=True)

    def get_avg_completion(self, obj) -> str | None:
        return _completion(obj["avg_completion"])


class TrackAnalyticsSerializer(serializers.Serializer):
    track_id = serializers.IntegerField()
    plays = serializers.IntegerField()
    unique_listeners = serializers.IntegerField()
    total_listening_ms = serializers.IntegerField()
    avg_completion = serializers.SerializerMethodField()
    last_played_at = serializers.DateTimeField(allow_null=True)
    plays_per_day = DailyPlaysSerializer(many=True)

    def get_avg_completion(self, obj) -> str | None:
        return _completion(obj["avg_completion"])


class PlatformAnalyticsSerializer(serializers.Serializer):
    users = serializers.IntegerField()
    artists = serializers.IntegerField()
    albums = serializers.IntegerField()
    tracks = serializers.IntegerField()
    plays = serializers.IntegerField()
    unique_listeners = serializers.IntegerField()
    plays_last_24h = serializers.IntegerField()
    top_tracks = TopTrackSerializer(many=True)
    top_artists = TopArtistSerializer(many=True)
