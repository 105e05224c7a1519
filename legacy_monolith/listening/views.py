"""Recording plays, the listener's history, and per-user / per-track / platform analytics."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from catalog.models import Track
from listening import analytics
from listening.models import ListenEvent
from listening.serializers import (
    ListenEventSerializer,
    PlatformAnalyticsSerializer,
    TrackAnalyticsSerializer,
    UserAnalyticsSerializer,
)
from vobemusic.permissions import IsAdminRole, is_platform_admin


class ListenView(generics.CreateAPIView):
    """Record one play of a track by the signed-in user."""

    serializer_class = ListenEventSerializer
    permission_classes = [IsAuthenticated]

    def perform_create(self, serializer):
        serializer.save(user=self.request.user)


class HistoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's plays, newest first. ``?track=<id>`` narrows to one track."""

    serializer_class = ListenEventSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        queryset = ListenEvent.objects.filter(user=self.request.user).select_related("track__artist")
        track = self.request.query_params.get("track")
        if track and track.isdigit():
            queryset = queryset.filter(track_id=int(track))
        return queryset


class UserAnalyticsView(APIView):
    """A user's listening totals and favourites: the user themself or an admin."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserAnalyticsSerializer)
    def get(self, request, user_id: int):
        if request.user.pk != user_id and not is_platform_admin(request.user):
            raise PermissionDenied("You can only see your own listening analytics.")
        user = get_object_or_404(User, pk=user_id)
        return Response(UserAnalyticsSerializer(analytics.user_analytics(user)).data)


class TrackAnalyticsView(APIView):
    """Public play statistics of a track, with plays per day for the last 30 days."""

    permission_classes = [AllowAny]

    @extend_schema(responses=TrackAnalyticsSerializer)
    def get(self, request, track_id: int):
        track = get_object_or_404(Track, pk=track_id)
        return Response(TrackAnalyticsSerializer(analytics.track_analytics(track)).data)


class PlatformAnalyticsView(APIView):
    """Platform-wide totals and top tracks/artists (admins only)."""

    permission_classes = [IsAdminRole]

    @extend_schema(responses=PlatformAnalyticsSerializer)
    def get(self, request):
        return Response(PlatformAnalyticsSerializer(analytics.platform_analytics()).data)
