"""Playlists: one per two users (at least 10), 80% public, 5-50 tracks each picked in
proportion to popularity (a playlist may repeat a track, as real ones do). Positions are 1..n."""
from __future__ import annotations

from datetime import timedelta
from itertools import accumulate

from demo_data.catalog import title
from demo_data.context import GenerationContext

TABLES = ["playlists_playlist", "playlists_playlisttrack"]
WINDOW_SECONDS = 2 * 365 * 86400
DESCRIPTIONS = ["", "", "For the commute.", "Sunday morning.", "Late night drive.", "Workout.", "Deep focus.",
                "Songs my friends sent me.", "Summer holiday."]


def playlist_count(users: int) -> int:
    return max(10, users // 2)


def generate(ctx: GenerationContext) -> None:
    rng = ctx.rng("playlists")
    users = ctx.counts["users"]
    ref = ctx.reference_time
    popularity = ctx.facts["track_popularity"]
    cumulative = list(accumulate(p + 1 for p in popularity[1:]))
    track_ids = range(1, len(cumulative) + 1)
    playlists, entries = [], []
    for playlist_id in range(1, playlist_count(users) + 1):
        created = ref - timedelta(seconds=rng.randrange(WINDOW_SECONDS))
        added = created
        size = rng.randint(5, 50)
        for position, track_id in enumerate(rng.choices(track_ids, cum_weights=cumulative, k=size), start=1):
            added = min(added + timedelta(minutes=rng.randrange(1, 600)), ref)
            entries.append((len(entries) + 1, playlist_id, track_id, position, added))
        playlists.append((playlist_id, rng.randrange(users) + 1, title(rng), rng.choice(DESCRIPTIONS),
                          rng.random() < 0.8, created, added))
    ctx.copy("playlists_playlist", ["id", "owner_id", "title", "description", "is_public", "created_at", "updated_at"],
             playlists)
    ctx.copy("playlists_playlisttrack", ["id", "playlist_id", "track_id", "position", "added_at"], entries)
    ctx.counts["playlists"] = len(playlists)
    ctx.counts["playlist_entries"] = len(entries)
