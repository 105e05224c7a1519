"""Filters of the ticket list (most useful to staff, who see every ticket)."""
import django_filters

from feedback.models import Ticket


class TicketFilter(django_filters.FilterSet):
    author = django_filters.NumberFilter(field_name="author_id")
    created = django_filters.IsoDateTimeFromToRangeFilter(field_name="created_at")

    class Meta:
        model = Ticket
        fields = ["status", "category", "author"]
