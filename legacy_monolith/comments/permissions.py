"""Who may change a comment: only its author edits the text (an admin must not put words in
someone's mouth); the author or an admin may delete it."""
from rest_framework.permissions import SAFE_METHODS, BasePermission

from vobemusic.permissions import is_owner, is_platform_admin


class CommentPermission(BasePermission):
    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        if request.method == "DELETE":
            return is_owner(request.user, obj, view) or is_platform_admin(request.user)
        return is_owner(request.user, obj, view)
