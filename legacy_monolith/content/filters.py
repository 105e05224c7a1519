"""Filters of the post list."""
import django_filters

from content.models import Post


class PostFilter(django_filters.FilterSet):
    author = django_filters.NumberFilter(field_name="author_id")
    artist = django_filters.NumberFilter(field_name="artists", label="Linked artist id")
    track = django_filters.NumberFilter(field_name="tracks", label="Linked track id")
    published = django_filters.BooleanFilter(field_name="is_published")
    # ?created_after=...&created_before=... (ISO 8601), inclusive.
    created = django_filters.IsoDateTimeFromToRangeFilter(field_name="created_at")

    class Meta:
        model = Post
        fields = ["author", "artist", "track", "published"]
