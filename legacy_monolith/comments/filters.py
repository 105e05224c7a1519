"""Filters of a post's flat comment list."""
import django_filters

from comments.models import Comment


class CommentFilter(django_filters.FilterSet):
    author = django_filters.NumberFilter(field_name="author_id")
    parent = django_filters.NumberFilter(field_name="parent_id")
    top_level = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="Only top-level comments")
    created = django_filters.IsoDateTimeFromToRangeFilter(field_name="created_at")

    class Meta:
        model = Comment
        fields = ["author", "parent", "top_level", "depth"]
