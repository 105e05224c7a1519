from django.contrib import admin

from comments.models import Comment


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "post", "author", "depth", "is_deleted", "created_at", "edited_at"]
    list_filter = ["is_deleted", "depth"]
    search_fields = ["body", "author__username"]
    # Posts, users and comments are far too many for <select> widgets.
    raw_id_fields = ["post", "author", "parent"]
    readonly_fields = ["depth", "created_at", "updated_at", "edited_at"]
    list_select_related = ["post", "author"]
    actions = ["soft_delete"]

    @admin.action(description="Soft delete (keep replies in place)")
    def soft_delete(self, request, queryset):
        for comment in queryset:
            comment.soft_delete()
