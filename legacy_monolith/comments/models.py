"""Threaded comments on posts: a parent link plus a stored depth, soft deleted."""
from django.conf import settings
from django.db import models
from django.utils import timezone

from content.models import Post

# Deepest allowed reply: top-level comments have depth 0, so a thread has MAX_DEPTH + 1 levels.
MAX_DEPTH = 8
DELETED_PLACEHOLDER = "[deleted]"


class CommentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Comments on posts the user may see (drafts' comments stay as private as the draft)."""
        return self.filter(post__in=Post.objects.visible_to(user))

    def for_post(self, post):
        """All comments of one post, oldest first, with what their JSON needs: the input of
        :func:`comments.tree.nest`, which builds the thread from this single query."""
        return self.filter(post=post).select_related("author__profile").order_by("created_at", "id")


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    depth = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(max_length=5000)
    is_deleted = models.BooleanField(default=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["post", "parent"]),
            # The flat list and the thread read one post's comments in this order.
            models.Index(fields=["post", "created_at", "id"], name="comments_post_created_idx"),
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on post {self.post_id}"

    def is_owned_by(self, user) -> bool:
        """A comment belongs to its author (see vobemusic.permissions.is_owner)."""
        return self.author_id == user.pk

    @staticmethod
    def reply_problem(parent: "Comment | None", post: Post) -> str | None:
        """Why a new comment on ``post`` may not hang under ``parent``, or None when it may."""
        if parent is None:
            return None
        if parent.post_id != post.pk:
            return "The parent comment belongs to a different post."
        if parent.is_deleted:
            return "You cannot reply to a deleted comment."
        if parent.depth + 1 > MAX_DEPTH:
            return f"Replies cannot be nested more than {MAX_DEPTH} levels deep."
        return None

    def save(self, *args, **kwargs):
        # Depth is derived, never taken from the client: the thread's shape depends on it.
        if self._state.adding:
            self.depth = self.parent.depth + 1 if self.parent_id else 0
        super().save(*args, **kwargs)

    def edit(self, body: str) -> None:
        """Replace the text and record when; the thread position never changes."""
        self.body = body
        self.edited_at = timezone.now()
        self.save(update_fields=["body", "edited_at", "updated_at"])

    def soft_delete(self) -> None:
        """Hide the comment but keep the row, so its replies keep their place in the thread.
        The stored body stays for moderation; the API shows a placeholder instead."""
        if self.is_deleted:
            return
        self.is_deleted = True
        self.save(update_fields=["is_deleted", "updated_at"])
