"""JSON shapes of posts. Reads embed summaries of the author, linked artists and tracks (the
catalog's own summary shapes); writes take ``artist_ids`` / ``track_ids``."""
from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from catalog.models import Artist, Track
from catalog.serializers import ArtistSummarySerializer, TrackSummarySerializer
from comments.serializers import comment_tree
from content.models import Post

# Plain inputs in the browsable API: a <select> of every track would render a million options.
ID_INPUT = {"base_template": "input.html"}


class PostSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True)
    artists = ArtistSummarySerializer(many=True, read_only=True)
    tracks = TrackSummarySerializer(many=True, read_only=True)
    artist_ids = serializers.PrimaryKeyRelatedField(
        source="artists", queryset=Artist.objects.all(), many=True, write_only=True, required=False, style=ID_INPUT
    )
    track_ids = serializers.PrimaryKeyRelatedField(
        source="tracks", queryset=Track.objects.all(), many=True, write_only=True, required=False, style=ID_INPUT
    )
    comment_count = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = [
            "id", "author", "title", "body", "artists", "tracks", "artist_ids", "track_ids",
            "is_published", "published_at", "comment_count", "created_at", "updated_at",
        ]
        read_only_fields = ["published_at", "created_at", "updated_at"]

    def get_comment_count(self, post) -> int:
        """Comments that are not deleted; annotated by the list query, 0 on a post just created."""
        return getattr(post, "comment_count", 0)


class PostDetailSerializer(PostSerializer):
    """A single post with its whole discussion: ``comments`` is the thread of top-level comments
    with nested ``replies`` (deleted ones as "[deleted]" placeholders)."""

    comments = serializers.SerializerMethodField()

    class Meta(PostSerializer.Meta):
        fields = PostSerializer.Meta.fields + ["comments"]

    def get_comments(self, post) -> list[dict]:
        return comment_tree(post)
