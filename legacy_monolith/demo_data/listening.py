"""Listen events: ``tracks * listens_per_track`` plays over the 90 days before the reference time,
by random users, with tracks picked in proportion to popularity (plus one so that unpopular
tracks still get the odd play). 60% of plays run to the end."""
from __future__ import annotations

from datetime import timedelta
from itertools import accumulate

from demo_data.context import GenerationContext

TABLES = ["listening_listenevent"]
WINDOW_SECONDS = 90 * 86400
PLATFORMS = [("web", "browser")] * 4 + [("ios", "iphone"), ("ios", "ipad")] * 2 + [("android", "phone")] * 3 + [
    ("desktop", "macos"), ("desktop", "windows")]
BATCH = 50_000


def generate(ctx: GenerationContext) -> None:
    rng = ctx.rng("listening")
    total = int(ctx.tracks * ctx.listens_per_track)
    users = ctx.counts["users"]
    durations = ctx.facts["track_durations"]
    cumulative = list(accumulate(p + 1 for p in ctx.facts["track_popularity"][1:]))
    ref = ctx.reference_time

    def lines():
        listen_id = 0
        track_ids = range(1, len(cumulative) + 1)
        while listen_id < total:
            picked = rng.choices(track_ids, cum_weights=cumulative, k=min(BATCH, total - listen_id))
            for track_id in picked:
                listen_id += 1
                duration = durations[track_id]
                played = duration if rng.random() < 0.6 else rng.randrange(5_000, duration)
                platform, device = rng.choice(PLATFORMS)
                at = ref - timedelta(seconds=rng.randrange(WINDOW_SECONDS))
                yield (
                    f"{listen_id}\t{rng.randrange(users) + 1}\t{track_id}\t{at.isoformat(sep=' ')}\t{played}\t"
                    f"{played * 100 / duration:.2f}\t{platform}\t{device}\n"
                )

    ctx.copy("listening_listenevent", [
        "id", "user_id", "track_id", "played_at", "play_duration_ms", "completion_percentage", "platform",
        "device_type",
    ], lines(), lines=True)
    ctx.counts["listens"] = total

