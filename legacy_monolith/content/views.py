"""Post endpoints."""
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.filters import SearchFilter

from content.filters import PostFilter
from content.models import Post
from content.serializers import PostDetailSerializer, PostSerializer
from vobemusic.ordering import StableOrderingFilter
from vobemusic.permissions import IsOwnerOrAdminOrReadOnly


class PostViewSet(viewsets.ModelViewSet):
    """``/posts/``: published posts for everyone, plus the user's own drafts (admins see all).

    ``GET /posts/{id}/`` is the post page: the post, its artists and tracks, and the whole comment
    thread, in a fixed number of queries. There is deliberately no separate ``/detail/`` route:
    the retrieve response already is the aggregate a "post detail" screen needs.
    """

    permission_classes = [IsOwnerOrAdminOrReadOnly]
    owner_field = "author"
    filter_backends = [DjangoFilterBackend, SearchFilter, StableOrderingFilter]
    filterset_class = PostFilter
    search_fields = ["title"]
    ordering_fields = ["created_at", "updated_at", "published_at", "title"]

    def get_queryset(self):
        return Post.objects.visible_to(self.request.user).with_links().with_comment_count()

    def get_serializer_class(self):
        return PostDetailSerializer if self.action == "retrieve" else PostSerializer

    def perform_create(self, serializer):
        serializer.save(author=self.request.user)
