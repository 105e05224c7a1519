from django.contrib import admin

from content.models import Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "author", "is_published", "published_at", "created_at"]
    list_filter = ["is_published"]
    search_fields = ["title", "author__username"]
    date_hierarchy = "created_at"
    # Users, artists and tracks are far too many for <select> widgets.
    raw_id_fields = ["author", "artists", "tracks"]
    readonly_fields = ["published_at", "created_at", "updated_at"]
    list_select_related = ["author"]
