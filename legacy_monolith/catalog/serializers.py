"""JSON shapes of the catalog. These are a public contract: the catalog service reproduces them
field for field, so add fields only deliberately and never rename one.

Reads nest small summaries (``artist``, ``album``, ``genre``); writes take ``*_id`` fields.
Other apps embed tracks and artists with the ``*SummarySerializer`` classes below; querysets
feeding them should use ``Track.objects.with_relations()`` / ``select_related("artist")``.
"""
from __future__ import annotations

from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from accounts.models import User
from catalog.models import Album, Artist, Genre, Track
from vobemusic.permissions import is_platform_admin


# -- summaries (embedded in other resources) ----------------------------------------------------
class GenreSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Genre
        fields = ["id", "name", "slug"]


class ArtistSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Artist
        fields = ["id", "name", "country", "image_url"]


class AlbumSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Album
        fields = ["id", "title", "release_date", "cover_image_url"]


class TrackSummarySerializer(serializers.ModelSerializer):
    """A track inside another resource (playlist entry, post, history): needs ``select_related("artist")``."""

    artist = ArtistSummarySerializer(read_only=True)

    class Meta:
        model = Track
        fields = ["id", "title", "artist", "duration_ms", "popularity"]


# -- full resources ------------------------------------------------------------------------------
class GenreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Genre
        fields = ["id", "name", "slug", "description"]


class ArtistSerializer(serializers.ModelSerializer):
    """``user`` is the linked account (role artist). Admins may link any user; an artist creating
    their own profile is linked automatically and cannot link someone else."""

    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Artist
        fields = ["id", "user", "name", "bio", "country", "image_url", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_country(self, value: str) -> str:
        if value and (len(value) != 2 or not value.isalpha()):
            raise serializers.ValidationError("Use a two-letter ISO 3166-1 country code.")
        return value.upper()

    def validate_user(self, value):
        request = self.context.get("request")
        if request is not None and not is_platform_admin(request.user) and value != request.user:
            raise serializers.ValidationError("Only admins can link an artist to another user.")
        return value


class AlbumSerializer(serializers.ModelSerializer):
    artist = ArtistSummarySerializer(read_only=True)
    artist_id = serializers.PrimaryKeyRelatedField(source="artist", queryset=Artist.objects.all(), write_only=True)

    class Meta:
        model = Album
        fields = ["id", "title", "artist", "artist_id", "release_date", "cover_image_url", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate_artist_id(self, artist: Artist) -> Artist:
        ensure_can_publish_for(self.context.get("request"), artist)
        return artist


class TrackSerializer(serializers.ModelSerializer):
    artist = ArtistSummarySerializer(read_only=True)
    album = AlbumSummarySerializer(read_only=True)
    genre = GenreSummarySerializer(read_only=True)
    artist_id = serializers.PrimaryKeyRelatedField(source="artist", queryset=Artist.objects.all(), write_only=True)
    album_id = serializers.PrimaryKeyRelatedField(
        source="album", queryset=Album.objects.all(), write_only=True, required=False, allow_null=True
    )
    genre_id = serializers.PrimaryKeyRelatedField(
        source="genre", queryset=Genre.objects.all(), write_only=True, required=False, allow_null=True
    )
    duration_ms = serializers.IntegerField(min_value=1000, max_value=24 * 60 * 60 * 1000)
    popularity = serializers.IntegerField(min_value=0, max_value=100, required=False)
    tempo = serializers.FloatField(min_value=1, max_value=400, required=False, allow_null=True)
    energy = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    valence = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    price = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0, required=False)

    class Meta:
        model = Track
        fields = [
            "id", "title", "artist", "album", "genre", "artist_id", "album_id", "genre_id",
            "duration_ms", "popularity", "tempo", "energy", "valence", "price", "file_path",
            "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_artist_id(self, artist: Artist) -> Artist:
        ensure_can_publish_for(self.context.get("request"), artist)
        return artist

    def validate(self, attrs):
        artist = attrs.get("artist", getattr(self.instance, "artist", None))
        album = attrs.get("album", getattr(self.instance, "album", None))
        if album is not None and artist is not None and album.artist_id != artist.pk:
            raise serializers.ValidationError({"album_id": ["This album belongs to a different artist."]})
        return attrs


def ensure_can_publish_for(request, artist: Artist) -> None:
    """Albums and tracks may only be attached to an artist the requesting user owns (admins: any).
    Raised as 403 rather than a field error: the input is valid, the user lacks the right."""
    if request is None or is_platform_admin(request.user):
        return
    if not artist.is_owned_by(request.user):
        raise PermissionDenied("You can only publish music for your own artist profile.")
