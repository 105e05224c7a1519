"""The legacy search: plain case-insensitive substring matching (``ILIKE '%q%'``) with no index
support and no relevance ranking. It is deliberately naive; it is the baseline the search service
must beat, so keep its semantics (what matches, in which order) stable."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from catalog.models import Album, Artist, Track
from content.models import Post


def tracks(q: str) -> QuerySet[Track]:
    """Tracks whose title or artist name contains ``q``; most popular first."""
    return (
        Track.objects.with_relations()
        .filter(Q(title__icontains=q) | Q(artist__name__icontains=q))
        .order_by("-popularity", "-id")
    )


def artists(q: str) -> QuerySet[Artist]:
    return Artist.objects.filter(name__icontains=q).order_by("name", "id")


def albums(q: str) -> QuerySet[Album]:
    return Album.objects.with_artist().filter(title__icontains=q).order_by("-release_date", "-id")


def posts(q: str) -> QuerySet[Post]:
    """Published posts whose title or body contains ``q``; newest first."""
    return (
        Post.objects.published()
        .select_related("author__profile")
        .filter(Q(title__icontains=q) | Q(body__icontains=q))
        .order_by("-published_at", "-id")
    )


def suggestions(q: str, limit: int) -> list[dict]:
    """Names starting with ``q``: artists first, then tracks (by popularity), then albums."""
    found = [
        {"type": "artist", "id": pk, "text": name}
        for pk, name in Artist.objects.filter(name__istartswith=q).order_by("name", "id").values_list("id", "name")[:limit]
    ]
    found += [
        {"type": "track", "id": pk, "text": title}
        for pk, title in Track.objects.filter(title__istartswith=q).order_by("-popularity", "-id")
        .values_list("id", "title")[:limit]
    ]
    found += [
        {"type": "album", "id": pk, "text": title}
        for pk, title in Album.objects.filter(title__istartswith=q).order_by("title", "id").values_list("id", "title")[:limit]
    ]
    return found[:limit]
