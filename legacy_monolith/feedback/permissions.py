"""Feedback is open to everyone to send; reading needs an account (the queryset limits users to
their own tickets); working a ticket (status, staff note, deletion) is for staff only.

"Staff" means platform admins (role admin or Django staff), as everywhere in the monolith."""
from rest_framework.permissions import BasePermission

from vobemusic.permissions import is_platform_admin


class TicketPermission(BasePermission):
    def has_permission(self, request, view):
        if view.action == "create":
            return True
        if not (request.user and request.user.is_authenticated):
            return False
        if view.action in {"update", "partial_update", "destroy"}:
            return is_platform_admin(request.user)
        return True
