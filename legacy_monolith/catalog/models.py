"""The music catalog: genres, artists, albums and tracks."""
from django.conf import settings
from django.db import models


class Genre(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ArtistQuerySet(models.QuerySet):
    def owned_by(self, user):
        return self.filter(user=user)


class Artist(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="artists"
    )
    name = models.CharField(max_length=200, db_index=True)
    bio = models.TextField(blank=True)
    country = models.CharField(max_length=2, blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArtistQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def is_owned_by(self, user) -> bool:
        """An artist profile belongs to the user account linked to it (role artist)."""
        return self.user_id is not None and self.user_id == user.pk


class AlbumQuerySet(models.QuerySet):
    def with_artist(self):
        return self.select_related("artist")


class Album(models.Model):
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="albums")
    title = models.CharField(max_length=200)
    release_date = models.DateField(null=True, blank=True)
    cover_image_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AlbumQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["release_date", "id"], name="catalog_album_release_idx")]

    def __str__(self) -> str:
        return self.title

    def is_owned_by(self, user) -> bool:
        """Albums belong to their artist's user."""
        return self.artist.is_owned_by(user)


class TrackQuerySet(models.QuerySet):
    def with_relations(self):
        """Everything a track's JSON shows, in one query (no N+1 on lists)."""
        return self.select_related("artist", "album", "genre")

    def popular(self):
        return self.order_by("-popularity", "-id")


class Track(models.Model):
    title = models.CharField(max_length=200)
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="tracks")
    album = models.ForeignKey(Album, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks")
    genre = models.ForeignKey(Genre, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks")
    duration_ms = models.PositiveIntegerField()
    popularity = models.PositiveSmallIntegerField(default=0)
    tempo = models.FloatField(null=True, blank=True)
    energy = models.FloatField(null=True, blank=True)
    valence = models.FloatField(null=True, blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    file_path = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TrackQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        # The list endpoints sort by these with the id as tie-breaker (vobemusic.ordering).
        indexes = [
            models.Index(fields=["popularity", "id"], name="catalog_track_popularity_idx"),
            models.Index(fields=["genre", "popularity", "id"], name="catalog_track_genre_pop_idx"),
            models.Index(fields=["duration_ms", "id"], name="catalog_track_duration_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_owned_by(self, user) -> bool:
        """Tracks belong to their artist's user."""
        return self.artist.is_owned_by(user)
