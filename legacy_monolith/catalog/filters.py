"""Query-string filters of the catalog lists (django-filter). Parameter names are part of the
public API: the catalog service must accept the same ones."""
import django_filters as filters

from catalog.models import Album, Artist, Track


class TrackFilter(filters.FilterSet):
    genre = filters.NumberFilter(field_name="genre_id")
    genre_slug = filters.CharFilter(field_name="genre__slug")
    artist = filters.NumberFilter(field_name="artist_id")
    album = filters.NumberFilter(field_name="album_id")
    year_min = filters.NumberFilter(field_name="album__release_date__year", lookup_expr="gte")
    year_max = filters.NumberFilter(field_name="album__release_date__year", lookup_expr="lte")
    duration_min = filters.NumberFilter(field_name="duration_ms", lookup_expr="gte")
    duration_max = filters.NumberFilter(field_name="duration_ms", lookup_expr="lte")
    popularity_min = filters.NumberFilter(field_name="popularity", lookup_expr="gte")
    tempo_min = filters.NumberFilter(field_name="tempo", lookup_expr="gte")
    tempo_max = filters.NumberFilter(field_name="tempo", lookup_expr="lte")
    energy_min = filters.NumberFilter(field_name="energy", lookup_expr="gte")
    energy_max = filters.NumberFilter(field_name="energy", lookup_expr="lte")
    valence_min = filters.NumberFilter(field_name="valence", lookup_expr="gte")
    valence_max = filters.NumberFilter(field_name="valence", lookup_expr="lte")
    price_min = filters.NumberFilter(field_name="price", lookup_expr="gte")
    price_max = filters.NumberFilter(field_name="price", lookup_expr="lte")
    search = filters.CharFilter(field_name="title", lookup_expr="icontains")

    class Meta:
        model = Track
        fields = []


class ArtistFilter(filters.FilterSet):
    country = filters.CharFilter(field_name="country", lookup_expr="iexact")
    name = filters.CharFilter(field_name="name", lookup_expr="icontains")
    user = filters.NumberFilter(field_name="user_id")

    class Meta:
        model = Artist
        fields = []


class AlbumFilter(filters.FilterSet):
    artist = filters.NumberFilter(field_name="artist_id")
    year_min = filters.NumberFilter(field_name="release_date__year", lookup_expr="gte")
    year_max = filters.NumberFilter(field_name="release_date__year", lookup_expr="lte")
    title = filters.CharFilter(field_name="title", lookup_expr="icontains")

    class Meta:
        model = Album
        fields = []
