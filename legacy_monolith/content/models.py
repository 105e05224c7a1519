"""Posts about music, linking the artists and tracks they talk about."""
from django.conf import settings
from django.db import models
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

    def save(self, *args, **kwargs):
        if self.is_published and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.title
