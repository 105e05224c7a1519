"""Catalog endpoints: genres, artists, albums, tracks, plus artist -> albums -> tracks navigation."""
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.decorators import action

from catalog.filters import AlbumFilter, ArtistFilter, TrackFilter
from catalog.models import Album, Artist, Genre, Track
from catalog.permissions import IsArtistOwnerOrAdminOrReadOnly
from catalog.serializers import AlbumSerializer, ArtistSerializer, GenreSerializer, TrackSerializer
from vobemusic.ordering import StableOrderingFilter
from vobemusic.permissions import IsAdminRoleOrReadOnly, is_platform_admin

TRACK_ORDERING_FIELDS = ["popularity", "duration_ms", "created_at", "title", "price", "id"]


class CatalogViewSet(viewsets.ModelViewSet):
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]

    def paginated(self, queryset, serializer_class, filterset_class=None):
        """A nested list (e.g. an artist's tracks) with the same filters and envelope as the top-level one."""
        if filterset_class is not None:
            queryset = filterset_class(self.request.query_params, queryset=queryset, request=self.request).qs
        queryset = StableOrderingFilter().filter_queryset(self.request, queryset, self)
        page = self.paginate_queryset(queryset)
        serializer = serializer_class(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)


class GenreViewSet(CatalogViewSet):
    queryset = Genre.objects.all()
    serializer_class = GenreSerializer
    permission_classes = [IsAdminRoleOrReadOnly]
    ordering_fields = ["name", "id"]
    filterset_fields = ["slug"]


class ArtistViewSet(CatalogViewSet):
    queryset = Artist.objects.all()
    serializer_class = ArtistSerializer
    permission_classes = [IsArtistOwnerOrAdminOrReadOnly]
    filterset_class = ArtistFilter
    ordering_fields = ["name", "created_at", "id"]

    def perform_create(self, serializer):
        # An artist creating a profile owns it; admins choose (or leave unlinked).
        if is_platform_admin(self.request.user):
            serializer.save()
        else:
            serializer.save(user=self.request.user)

    @action(detail=True, methods=["get"])
    def albums(self, request, pk=None):
        artist = self.get_object()
        self.ordering_fields = ["release_date", "title", "created_at", "id"]
        return self.paginated(artist.albums.with_artist(), AlbumSerializer, AlbumFilter)

    @action(detail=True, methods=["get"])
    def tracks(self, request, pk=None):
        artist = self.get_object()
        self.ordering_fields = TRACK_ORDERING_FIELDS
        return self.paginated(artist.tracks.with_relations(), TrackSerializer, TrackFilter)


class AlbumViewSet(CatalogViewSet):
    queryset = Album.objects.with_artist()
    serializer_class = AlbumSerializer
    permission_classes = [IsArtistOwnerOrAdminOrReadOnly]
    filterset_class = AlbumFilter
    ordering_fields = ["release_date", "title", "created_at", "id"]

    @action(detail=True, methods=["get"])
    def tracks(self, request, pk=None):
        album = self.get_object()
        self.ordering_fields = TRACK_ORDERING_FIELDS
        return self.paginated(album.tracks.with_relations(), TrackSerializer, TrackFilter)


class TrackViewSet(CatalogViewSet):
    queryset = Track.objects.with_relations()
    serializer_class = TrackSerializer
    permission_classes = [IsArtistOwnerOrAdminOrReadOnly]
    filterset_class = TrackFilter
    ordering_fields = TRACK_ORDERING_FIELDS

    @action(detail=False, methods=["get"])
    def popular(self, request):
        """Most popular tracks first; the list filters apply (e.g. ``?genre=3``)."""
        queryset = self.filter_queryset(self.get_queryset())
        if not request.query_params.get("ordering"):
            queryset = queryset.popular()
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
