"""Permission classes shared by every app of the monolith.

Roles live on ``accounts.User.role``; ``User.is_platform_admin`` (role ``admin`` or Django staff)
is the single definition of "admin" everywhere.

Ownership is resolved in one place, :func:`is_owner`, so apps only declare *who* owns an object:
- the object defines ``is_owned_by(user) -> bool`` (preferred when ownership goes through a relation,
  e.g. a track is owned by its artist's user), or
- the view sets ``owner_field`` (default ``"owner"``), the name of a foreign key to the user
  (e.g. ``owner_field = "author"`` for posts and comments).
"""
from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


def is_platform_admin(user) -> bool:
    """True for authenticated users with the admin role (or Django staff)."""
    return bool(user and user.is_authenticated and getattr(user, "is_platform_admin", False))


def is_owner(user, obj, view=None) -> bool:
    """Whether ``user`` owns ``obj``; see the module docstring for how ownership is declared."""
    if not (user and user.is_authenticated):
        return False
    if hasattr(obj, "is_owned_by"):
        return bool(obj.is_owned_by(user))
    field = getattr(view, "owner_field", "owner")
    return getattr(obj, f"{field}_id", None) == user.pk


class IsAdminRole(BasePermission):
    """Only platform admins, for every method."""

    def has_permission(self, request, view):
        return is_platform_admin(request.user)


class IsAdminRoleOrReadOnly(BasePermission):
    """Anyone may read; only platform admins may write."""

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or is_platform_admin(request.user)


class IsOwnerOrAdmin(BasePermission):
    """Authenticated; object access (read and write) only for its owner or an admin.
    For private resources such as a user's own history or a private playlist."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        return is_platform_admin(request.user) or is_owner(request.user, obj, view)


class IsOwnerOrAdminOrReadOnly(BasePermission):
    """Anyone may read; authenticated users may create; only the owner or an admin may change
    or delete an object. Visibility of drafts/private objects is the queryset's job, not this."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return is_platform_admin(request.user) or is_owner(request.user, obj, view)
