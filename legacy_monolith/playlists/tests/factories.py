"""Playlist factory and an invariant check shared by the playlist tests."""
from django.db import connection

from accounts.models import User
from playlists.models import Playlist, PlaylistTrack
from vobemusic.testing import make_track, make_user


def make_playlist(owner: User | None = None, tracks: int = 0, **fields) -> Playlist:
    fields.setdefault("title", "Road trip")
    playlist = Playlist.objects.create(owner=owner or make_user(), **fields)
    for _ in range(tracks):
        playlist.add_track(make_track())
    return playlist


def entry_ids(playlist: Playlist) -> list[int]:
    return list(PlaylistTrack.objects.filter(playlist=playlist).order_by("position").values_list("pk", flat=True))


def assert_contiguous(playlist: Playlist) -> None:
    """Positions are exactly 1..n, and the deferred unique constraint holds right now (tests run
    inside a transaction that never commits, so force the deferred check explicitly)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    rows = PlaylistTrack.objects.filter(playlist=playlist).order_by("position")
    positions = list(rows.values_list("position", flat=True))
    assert positions == list(range(1, len(positions) + 1))
