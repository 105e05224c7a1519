"""Search parameters and the shapes of search hits."""
from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from content.models import Post

MAX_QUERY_LENGTH = 100
POST_EXCERPT_CHARS = 200


class SearchQuerySerializer(serializers.Serializer):
    """``q`` is required, trimmed, 1..100 characters."""

    q = serializers.CharField(max_length=MAX_QUERY_LENGTH)


class SuggestQuerySerializer(SearchQuerySerializer):
    limit = serializers.IntegerField(min_value=1, max_value=20, default=10)


class PostHitSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True)
    excerpt = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = ["id", "title", "excerpt", "author", "published_at"]

    def get_excerpt(self, post: Post) -> str:
        return post.body[:POST_EXCERPT_CHARS]
