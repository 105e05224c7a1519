"""JSON shapes of playlists and their entries.

A playlist: id, owner (user summary), title, description, is_public, track_count, created_at,
updated_at. An entry: id (the entry's own id, used to remove it), position (1..n), track (the
catalog's track summary), added_at."""
from contextlib import contextmanager

from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from catalog.models import Track
from catalog.serializers import TrackSummarySerializer
from playlists.models import Playlist, PlaylistOrderError, PlaylistTrack


class PlaylistSerializer(serializers.ModelSerializer):
    owner = UserSummarySerializer(read_only=True)
    track_count = serializers.SerializerMethodField()

    class Meta:
        model = Playlist
        fields = ["id", "owner", "title", "description", "is_public", "track_count", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_track_count(self, playlist) -> int:
        """Annotated by the list query; 0 on a playlist just created."""
        return getattr(playlist, "track_count", 0)


class PlaylistEntrySerializer(serializers.ModelSerializer):
    """Reads show the track summary; adding takes ``track_id`` and an optional ``position``
    (1..n+1, default: append)."""

    track = TrackSummarySerializer(read_only=True)
    track_id = serializers.PrimaryKeyRelatedField(
        source="track", queryset=Track.objects.all(), write_only=True, style={"base_template": "input.html"}
    )
    position = serializers.IntegerField(min_value=1, required=False)

    class Meta:
        model = PlaylistTrack
        fields = ["id", "position", "track", "track_id", "added_at"]
        read_only_fields = ["added_at"]

    def create(self, validated_data):
        playlist: Playlist = self.context["playlist"]
        with field_errors():
            return playlist.add_track(validated_data["track"], validated_data.get("position"))


class PlaylistReorderSerializer(serializers.Serializer):
    """Either move one entry (``from_position`` -> ``to_position``) or give the complete new
    order (``entries``: every entry id exactly once)."""

    from_position = serializers.IntegerField(min_value=1, required=False)
    to_position = serializers.IntegerField(min_value=1, required=False)
    entries = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=True)

    def validate(self, attrs):
        move = "from_position" in attrs or "to_position" in attrs
        if move == ("entries" in attrs):
            raise serializers.ValidationError("Send either from_position and to_position, or entries.")
        if move:
            for name in ("from_position", "to_position"):
                if name not in attrs:
                    raise serializers.ValidationError({name: ["This field is required."]})
        return attrs

    def save(self, **kwargs):
        playlist: Playlist = self.context["playlist"]
        with field_errors():
            if "entries" in self.validated_data:
                playlist.reorder(self.validated_data["entries"])
            else:
                playlist.move(self.validated_data["from_position"], self.validated_data["to_position"])
        return playlist


@contextmanager
def field_errors():
    """Turn a PlaylistOrderError from the model into DRF's field error body (400)."""
    try:
        yield
    except PlaylistOrderError as exc:
        raise serializers.ValidationError({exc.field: [exc.message]}) from exc
