"""Posts about music, linking the artists and tracks they talk about."""
from django.conf import settings
from django.db import models
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import Artist, Track


class PostQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def visible_to(self, user):
        """Published posts for everyone; drafts only for their author and admins."""
        if user.is_authenticated and getattr(user, "is_platform_admin", False):
            return self
        if user.is_authenticated:
            return self.filter(models.Q(is_published=True) | models.Q(author=user))
        return self.published()

    def with_links(self):
        """Author, linked artists and linked tracks (with their artist) in a fixed number of
        queries, whatever the page size: the JSON of a post embeds all of them."""
        return self.select_related("author__profile").prefetch_related(
            Prefetch("artists", queryset=Artist.objects.order_by("id")),
            Prefetch("tracks", queryset=Track.objects.select_related("artist").order_by("id")),
        )

    def with_comment_count(self):
        """Annotate ``comment_count``: comments that are not deleted.

        A correlated subquery rather than a JOIN + GROUP BY: the database then counts only for
        the rows of the requested page, instead of aggregating every post before the LIMIT."""
        comment_model = self.model._meta.get_field("comments").related_model  # no import cycle
        visible = (
            comment_model.objects.filter(post=OuterRef("pk"), is_deleted=False)
            .order_by()
            .values("post")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(comment_count=Coalesce(Subquery(visible), 0))


class Post(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=200)
    body = models.TextField()
    artists = models.ManyToManyField(Artist, blank=True, related_name="posts")
    tracks = models.ManyToManyField(Track, blank=True, related_name="posts")
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The public list: published posts, newest first.
            models.Index(fields=["is_published", "-created_at", "-id"], name="content_post_published_idx"),
        ]

    def save(self, *args, **kwargs):
        if self.is_published and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.title

    def is_owned_by(self, user) -> bool:
        """A post belongs to its author (see vobemusic.permissions.is_owner)."""
        return self.author_id == user.pk
