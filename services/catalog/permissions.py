"""Who may change the catalog (the monolith's catalog.permissions and vobemusic.permissions):
admins everything; users with the artist role their own artist profile and its albums and tracks;
genres admin-only. Reads are open to everyone."""
from __future__ import annotations

from typing import Optional

from services.common.auth import Principal, permission_denied

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def require_artist_or_admin(user: Optional[Principal], method: str) -> None:
    """IsArtistOwnerOrAdminOrReadOnly.has_permission."""
    if method in SAFE_METHODS:
        return
    if user is not None and (user.is_platform_admin or user.is_artist):
        return
    raise permission_denied(user)


def require_admin(user: Optional[Principal], method: str) -> None:
    """IsAdminRoleOrReadOnly.has_permission."""
    if method in SAFE_METHODS or (user is not None and user.is_platform_admin):
        return
    raise permission_denied(user)


def require_owner_or_admin(user: Optional[Principal], method: str, owner_user_id: Optional[int]) -> None:
    """IsArtistOwnerOrAdminOrReadOnly.has_object_permission; ownership goes through the artist's user."""
    if method in SAFE_METHODS or (user is not None and user.is_platform_admin):
        return
    if user is not None and owner_user_id is not None and owner_user_id == user.id:
        return
    raise permission_denied(user)
