"""Playlist endpoints: the playlists themselves and their ordered tracks."""
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import SearchFilter
from rest_framework.response import Response

from playlists.filters import PlaylistFilter
from playlists.models import Playlist, PlaylistTrack
from playlists.serializers import PlaylistEntrySerializer, PlaylistReorderSerializer, PlaylistSerializer
from vobemusic.ordering import StableOrderingFilter
from vobemusic.permissions import IsOwnerOrAdminOrReadOnly

ReorderResult = inline_serializer("PlaylistOrder", {"entries": serializers.ListField(child=serializers.IntegerField())})


class PlaylistViewSet(viewsets.ModelViewSet):
    """``/playlists/``: public playlists for everyone, private ones for their owner and admins
    only (anyone else gets 404, as if it did not exist). The owner (or an admin) edits a
    playlist and its tracks:

    - ``GET /playlists/{id}/tracks/``: entries in order, paginated;
    - ``POST /playlists/{id}/tracks/`` ``{"track_id", "position"?}``: insert, shifting the rest;
    - ``DELETE /playlists/{id}/tracks/{entry_id}/``: remove, closing the gap;
    - ``POST /playlists/{id}/reorder/`` ``{"from_position", "to_position"}`` or ``{"entries": [...]}``.

    Removal is by entry id, not position: an id names the same entry however the list shifts
    under concurrent edits, and a playlist may hold the same track twice.
    """

    serializer_class = PlaylistSerializer
    permission_classes = [IsOwnerOrAdminOrReadOnly]
    filter_backends = [DjangoFilterBackend, SearchFilter, StableOrderingFilter]
    filterset_class = PlaylistFilter
    search_fields = ["title"]
    ordering_fields = ["created_at", "updated_at", "title"]

    def get_queryset(self):
        return Playlist.objects.visible_to(self.request.user).select_related("owner__profile").with_track_count()

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "playlist", None) is not None:
            context["playlist"] = self.playlist
        return context

    @extend_schema(methods=["GET"], responses=PlaylistEntrySerializer(many=True))
    @extend_schema(methods=["POST"], request=PlaylistEntrySerializer, responses={201: PlaylistEntrySerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=PlaylistEntrySerializer, filter_backends=[])
    def tracks(self, request, pk=None):
        self.playlist = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(self.playlist.entries.with_track().order_by("position"))
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = serializer.save()
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["delete"], url_path=r"tracks/(?P<entry_pk>\d+)", filter_backends=[])
    def remove_track(self, request, pk=None, entry_pk=None):
        playlist = self.get_object()
        try:
            playlist.remove_entry(int(entry_pk))
        except PlaylistTrack.DoesNotExist:
            raise NotFound() from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PlaylistReorderSerializer, responses=ReorderResult)
    @action(detail=True, methods=["post"], serializer_class=PlaylistReorderSerializer, filter_backends=[])
    def reorder(self, request, pk=None):
        self.playlist = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response({"entries": self.playlist.ordered_entry_ids()})
