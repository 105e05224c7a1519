from django.contrib import admin

from playlists.models import Playlist, PlaylistTrack


class PlaylistTrackInline(admin.TabularInline):
    """Positions edited here must stay 1..n; the API keeps them contiguous, the admin trusts staff."""

    model = PlaylistTrack
    raw_id_fields = ["track"]
    readonly_fields = ["added_at"]
    ordering = ["position"]
    extra = 0


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "owner", "is_public", "created_at", "updated_at"]
    list_filter = ["is_public"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["owner"]
    inlines = [PlaylistTrackInline]
