from django import forms
from django.contrib import admin

from feedback.models import Ticket


class TicketAdminForm(forms.ModelForm):
    """The admin follows the same status workflow as the API."""

    class Meta:
        model = Ticket
        fields = "__all__"

    def clean_status(self):
        status = self.cleaned_data["status"]
        if self.instance.pk and not self.instance.can_move_to(status):
            raise forms.ValidationError(f'A ticket cannot move from "{self.instance.status}" to "{status}".')
        return status


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = ["id", "subject", "category", "status", "author", "email", "created_at"]
    list_filter = ["status", "category"]
    search_fields = ["subject", "email", "author__username"]
    raw_id_fields = ["author"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["author"]
    date_hierarchy = "created_at"
