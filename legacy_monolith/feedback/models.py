"""Feedback tickets from users, worked through by staff."""
from django.conf import settings
from django.db import models


class Ticket(models.Model):
    class Category(models.TextChoices):
        BUG = "bug", "Bug"
        FEATURE = "feature", "Feature request"
        CONTENT = "content", "Content issue"
        ACCOUNT = "account", "Account"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    # Which status may follow which; staff move tickets along it, nobody skips back to open.
    TRANSITIONS = {
        Status.OPEN: {Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED},
        Status.IN_PROGRESS: {Status.RESOLVED, Status.CLOSED, Status.OPEN},
        Status.RESOLVED: {Status.CLOSED, Status.IN_PROGRESS},
        Status.CLOSED: set(),
    }

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    email = models.EmailField(blank=True)
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    subject = models.CharField(max_length=200)
    message = models.TextField(max_length=10000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    staff_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def can_move_to(self, status: str) -> bool:
        return status == self.status or status in self.TRANSITIONS[self.Status(self.status)]

    def __str__(self) -> str:
        return self.subject
