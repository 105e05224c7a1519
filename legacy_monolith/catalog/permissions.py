"""Who may change the catalog: admins everything; users with the artist role their own artist
profile and its albums and tracks. Genres are admin-only (see vobemusic.permissions)."""
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import User
from vobemusic.permissions import is_owner, is_platform_admin


class IsArtistOwnerOrAdminOrReadOnly(BasePermission):
    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return is_platform_admin(user) or (user.is_authenticated and user.role == User.Role.ARTIST)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return is_platform_admin(request.user) or is_owner(request.user, obj, view)
