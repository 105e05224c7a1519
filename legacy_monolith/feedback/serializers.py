"""JSON shape of a feedback ticket.

Everyone sees: id, author (null for anonymous tickets), email, category, subject, message,
status, created_at, updated_at. Staff also see ``staff_note`` and ``allowed_statuses``; for
everyone else those keys are absent, not null. Staff edit status, category and staff_note of an
existing ticket; the sender's own words (subject, message, email) never change."""
from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from feedback.models import Ticket
from vobemusic.permissions import is_platform_admin

STAFF_ONLY_FIELDS = ("staff_note", "allowed_statuses")
SENDER_FIELDS = ("email", "subject", "message")


class TicketSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True)
    email = serializers.EmailField(required=False, allow_blank=False)
    allowed_statuses = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id", "author", "email", "category", "subject", "message", "status", "staff_note",
            "allowed_statuses", "created_at", "updated_at",
        ]
        read_only_fields = ["status", "created_at", "updated_at"]

    @property
    def _user(self):
        request = self.context.get("request")
        return request.user if request is not None else None

    def get_fields(self):
        fields = super().get_fields()
        if not is_platform_admin(self._user):
            for name in STAFF_ONLY_FIELDS:
                fields.pop(name)
        elif isinstance(self.instance, Ticket):
            # Working an existing ticket: staff move it along, the sender's text stays as sent.
            fields["status"].read_only = False
            for name in SENDER_FIELDS:
                fields[name].read_only = True
        return fields

    def get_allowed_statuses(self, ticket: Ticket) -> list[str]:
        return ticket.allowed_next_statuses()

    def validate_status(self, status: str) -> str:
        if not self.instance.can_move_to(status):
            allowed = ", ".join(self.instance.allowed_next_statuses()) or "none (the ticket is closed)"
            raise serializers.ValidationError(
                f'A ticket cannot move from "{self.instance.status}" to "{status}". Allowed: {allowed}.'
            )
        return status

    def validate(self, attrs):
        user = self._user
        if self.instance is None and not (user and user.is_authenticated) and not attrs.get("email"):
            # Without an account the email is the only way to answer the sender.
            raise serializers.ValidationError({"email": ["This field is required."]})
        return attrs

    def create(self, validated_data):
        user = self._user
        if user and user.is_authenticated:
            validated_data["author"] = user
            validated_data.setdefault("email", user.email)
        return super().create(validated_data)
