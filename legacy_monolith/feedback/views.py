"""Feedback ticket endpoints."""
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.filters import SearchFilter

from feedback.filters import TicketFilter
from feedback.models import Ticket
from feedback.permissions import TicketPermission
from feedback.serializers import TicketSerializer
from feedback.throttling import AnonymousFeedbackThrottle
from vobemusic.ordering import StableOrderingFilter


class TicketViewSet(viewsets.ModelViewSet):
    """``/feedback/``: anyone sends a ticket (anonymous senders must give an email); users list
    their own; staff see all, filter them and move them through the status workflow
    (``Ticket.TRANSITIONS``). Senders cannot edit a ticket once sent."""

    serializer_class = TicketSerializer
    permission_classes = [TicketPermission]
    filter_backends = [DjangoFilterBackend, SearchFilter, StableOrderingFilter]
    filterset_class = TicketFilter
    search_fields = ["subject"]
    ordering_fields = ["created_at", "updated_at", "status", "category"]

    def get_queryset(self):
        return Ticket.objects.visible_to(self.request.user).select_related("author__profile")

    def get_throttles(self):
        if self.action == "create" and not self.request.user.is_authenticated:
            return [AnonymousFeedbackThrottle()]
        return super().get_throttles()
