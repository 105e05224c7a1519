"""Filters that narrow track search results (same parameter names as the track list)."""
import django_filters as filters

from catalog.models import Track


class TrackSearchFilter(filters.FilterSet):
    genre = filters.NumberFilter(field_name="genre_id")
    genre_slug = filters.CharFilter(field_name="genre__slug")
    artist = filters.NumberFilter(field_name="artist_id")
    year_min = filters.NumberFilter(field_name="album__release_date__year", lookup_expr="gte")
    year_max = filters.NumberFilter(field_name="album__release_date__year", lookup_expr="lte")
    duration_min = filters.NumberFilter(field_name="duration_ms", lookup_expr="gte")
    duration_max = filters.NumberFilter(field_name="duration_ms", lookup_expr="lte")

    class Meta:
        model = Track
        fields = []
