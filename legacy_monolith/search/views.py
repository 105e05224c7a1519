"""Legacy search endpoints. Every one requires ``q`` and answers 400 with a DRF field error
when it is missing, blank or longer than 100 characters."""
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.serializers import AlbumSerializer, ArtistSerializer, TrackSerializer
from search import queries
from search.filters import TrackSearchFilter
from search.serializers import PostHitSerializer, SearchQuerySerializer, SuggestQuerySerializer

MIXED_RESULTS_PER_TYPE = 5
Q_PARAMETER = OpenApiParameter("q", str, required=True, description="Text to look for (1-100 characters)")


def search_text(request) -> str:
    serializer = SearchQuerySerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["q"]


@extend_schema(parameters=[Q_PARAMETER])
class SearchListView(generics.ListAPIView):
    """Paginated hits of one type; subclasses name the query function."""

    permission_classes = [AllowAny]
    filter_backends = []
    search_function = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no q
            return self.get_serializer_class().Meta.model.objects.none()
        return self.search_function(search_text(self.request))


class TrackSearchView(SearchListView):
    serializer_class = TrackSerializer
    search_function = staticmethod(queries.tracks)
    filter_backends = [DjangoFilterBackend]
    filterset_class = TrackSearchFilter


class ArtistSearchView(SearchListView):
    serializer_class = ArtistSerializer
    search_function = staticmethod(queries.artists)


class AlbumSearchView(SearchListView):
    serializer_class = AlbumSerializer
    search_function = staticmethod(queries.albums)


class PostSearchView(SearchListView):
    serializer_class = PostHitSerializer
    search_function = staticmethod(queries.posts)


class MixedSearchView(APIView):
    """The first few hits of every type with each type's total:
    ``{"query", "tracks": {"count", "results"}, "artists": ..., "albums": ..., "posts": ...}``."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[Q_PARAMETER], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        q = search_text(request)
        context = {"request": request}
        sections = {
            "tracks": (queries.tracks(q), TrackSerializer),
            "artists": (queries.artists(q), ArtistSerializer),
            "albums": (queries.albums(q), AlbumSerializer),
            "posts": (queries.posts(q), PostHitSerializer),
        }
        body = {"query": q}
        for name, (queryset, serializer_class) in sections.items():
            hits = queryset[:MIXED_RESULTS_PER_TYPE]
            body[name] = {"count": queryset.count(), "results": serializer_class(hits, many=True, context=context).data}
        return Response(body)


class SuggestView(APIView):
    """Completions for a prefix: ``{"query", "suggestions": [{"type", "id", "text"}]}`` (``limit`` 1-20, default 10)."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[Q_PARAMETER, OpenApiParameter("limit", int)], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        params = SuggestQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        q, limit = params.validated_data["q"], params.validated_data["limit"]
        return Response({"query": q, "suggestions": queries.suggestions(q, limit)})
