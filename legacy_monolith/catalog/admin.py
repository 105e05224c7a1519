from django.contrib import admin

from catalog.models import Album, Artist, Genre, Track


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "country", "user"]
    list_filter = ["country"]
    search_fields = ["name"]
    raw_id_fields = ["user"]


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "artist", "release_date"]
    search_fields = ["title"]
    raw_id_fields = ["artist"]
    date_hierarchy = "release_date"


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "artist", "album", "genre", "duration_ms", "popularity", "price"]
    list_filter = ["genre"]
    search_fields = ["title"]
    raw_id_fields = ["artist", "album"]
    # Counting a million rows on every changelist page is what makes admin unusable at scale.
    show_full_result_count = False
