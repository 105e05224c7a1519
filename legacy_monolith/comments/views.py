"""Comment endpoints: a post's comments (flat page or thread) and single comments."""
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets

from comments.filters import CommentFilter
from comments.models import Comment
from comments.permissions import CommentPermission
from comments.serializers import CommentSerializer, CommentUpdateSerializer, comment_tree
from content.models import Post
from vobemusic.ordering import StableOrderingFilter

TRUE_VALUES = {"1", "true", "yes", "on"}


class PostCommentViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """``/posts/{post_pk}/comments/``: list a post's comments, or add one (optionally a reply).

    The list is flat and oldest first by default (filterable, paginated). With ``?tree=1`` the
    page holds top-level comments, each with its complete thread nested under ``replies``; the
    count is then the number of top-level comments and filters do not apply.
    """

    serializer_class = CommentSerializer
    permission_classes = [CommentPermission]
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    filterset_class = CommentFilter
    ordering_fields = ["created_at", "id"]

    @cached_property
    def commented_post(self) -> Post:
        """The post from the URL; a draft the user may not see is a 404, like a missing one.
        (Not named ``post``: a ViewSet binds its HTTP handlers to attributes named after methods.)"""
        return get_object_or_404(Post.objects.visible_to(self.request.user), pk=self.kwargs["post_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no URL kwargs
            return Comment.objects.none()
        return Comment.objects.for_post(self.commented_post)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "post_pk" in self.kwargs:
            context["post"] = self.commented_post
        return context

    @extend_schema(
        parameters=[OpenApiParameter("tree", OpenApiTypes.BOOL, description="Nest replies under top-level comments")]
    )
    def list(self, request, *args, **kwargs):
        if request.query_params.get("tree", "").lower() not in TRUE_VALUES:
            return super().list(request, *args, **kwargs)
        page = self.paginate_queryset(comment_tree(self.commented_post))
        return self.get_paginated_response(page)

    def perform_create(self, serializer):
        serializer.save(post=self.commented_post, author=self.request.user)


class CommentViewSet(
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """``/comments/{id}/``: read one comment, edit its text (author), delete it (author or admin).

    Deleting is soft: the comment stays in its thread as a "[deleted]" placeholder so its replies
    keep their place; deleting twice is harmless.
    """

    serializer_class = CommentUpdateSerializer
    permission_classes = [CommentPermission]

    def get_queryset(self):
        return Comment.objects.visible_to(self.request.user).select_related("author__profile")

    def perform_destroy(self, instance):
        instance.soft_delete()
