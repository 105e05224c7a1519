"""Filters of the playlist list."""
import django_filters
from django.db.models import Exists, OuterRef

from playlists.models import Playlist, PlaylistTrack


class PlaylistFilter(django_filters.FilterSet):
    owner = django_filters.NumberFilter(field_name="owner_id")
    track = django_filters.NumberFilter(method="filter_track", label="Contains track id")

    class Meta:
        model = Playlist
        fields = ["owner", "is_public", "track"]

    def filter_track(self, queryset, name, value):
        # EXISTS rather than a join: a join would multiply the annotated track_count whenever
        # a playlist holds the track more than once.
        return queryset.filter(Exists(PlaylistTrack.objects.filter(playlist=OuterRef("pk"), track_id=value)))
