from django.contrib import admin

from listening.models import ListenEvent


@admin.register(ListenEvent)
class ListenEventAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "track", "played_at", "play_duration_ms", "completion_percentage", "platform"]
    list_filter = ["platform"]
    raw_id_fields = ["user", "track"]
    date_hierarchy = "played_at"
    show_full_result_count = False
