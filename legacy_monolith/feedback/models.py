"""Feedback tickets from users, worked through by staff."""
from django.conf import settings
from django.db import models


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff (platform admins) see every ticket, users their own, anonymous senders none:
        they get their answer by email."""
        if user.is_authenticated and getattr(user, "is_platform_admin", False):
            return self
        if user.is_authenticated:
            return self.filter(author=user)
        return self.none()


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

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # "My tickets", newest first.
            models.Index(fields=["author", "-created_at", "-id"], name="feedback_ticket_author_idx"),
        ]

    def can_move_to(self, status: str) -> bool:
        return status == self.status or status in self.TRANSITIONS[self.Status(self.status)]

    def allowed_next_statuses(self) -> list[str]:
        """The statuses this ticket may move to next, in the order the workflow lists them."""
        allowed = self.TRANSITIONS[self.Status(self.status)]
        return [status.value for status in self.Status if status in allowed]

    def is_owned_by(self, user) -> bool:
        """A ticket belongs to the signed-in user who sent it (anonymous tickets to nobody)."""
        return self.author_id is not None and self.author_id == user.pk

    def __str__(self) -> str:
        return self.subject
