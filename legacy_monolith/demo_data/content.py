"""Posts about music: tracks/20 posts (at least 20) by random users over the year before the
reference time, 85% published, each linking 1-3 artists and 0-4 tracks of the catalogue.

Post 1 is always published and gets the largest comment thread (see demo_data.comments), so
benchmarks and demos have a known "post detail with comments" page."""
from __future__ import annotations

from datetime import timedelta

from demo_data.catalog import title
from demo_data.context import GenerationContext
from demo_data.words import ADJECTIVES, NOUNS

TABLES = ["content_post", "content_post_artists", "content_post_tracks"]
PUBLISHED_SHARE = 0.85
YEAR_SECONDS = 365 * 86400

TITLE_PATTERNS = [
    "{title}: a first listen",
    "Why {title} still matters",
    "Notes on {title}",
    "{title} and the {adjective} {noun} sound",
    "Ten minutes with {title}",
    "In defence of {title}",
    "The making of {title}",
]
SENTENCES = [
    "The production is {adjective} and restrained, leaving room for the vocals.",
    "It opens with a {adjective} {noun} motif that returns in the final chorus.",
    "Played loud, the low end carries the whole arrangement.",
    "Few records this year sound as {adjective} on headphones.",
    "The second half drifts, but the closing track pulls it back together.",
    "Live, the band stretches the bridge into something {adjective}.",
    "It rewards a patient listen rather than a skip through the singles.",
    "The lyrics circle around a {noun} and never quite name it.",
]


def post_count(tracks: int) -> int:
    return max(20, tracks // 20)


def body(rng) -> str:
    sentences = rng.sample(SENTENCES, rng.randint(2, 5))
    return " ".join(
        s.format(adjective=rng.choice(ADJECTIVES).lower(), noun=rng.choice(NOUNS).lower()) for s in sentences
    )


def generate(ctx: GenerationContext) -> None:
    rng = ctx.rng("content")
    total = post_count(ctx.tracks)
    users, artists, tracks = ctx.counts["users"], ctx.counts["artists"], ctx.counts["tracks"]
    ref = ctx.reference_time
    posts, post_artists, post_tracks = [], [], []
    published_at_by_post = {}
    for post_id in range(1, total + 1):
        # Leave three days before "now" so every comment thread fits before the reference time.
        created = ref - timedelta(seconds=rng.randrange(3 * 86400, YEAR_SECONDS))
        published = post_id == 1 or rng.random() < PUBLISHED_SHARE
        published_at = created + timedelta(minutes=rng.randrange(5, 600)) if published else None
        if published:
            published_at_by_post[post_id] = published_at
        heading = rng.choice(TITLE_PATTERNS).format(
            title=title(rng), adjective=rng.choice(ADJECTIVES).lower(), noun=rng.choice(NOUNS).lower()
        )
        updated = published_at or created
        author_id = rng.randrange(users) + 1
        posts.append((post_id, author_id, heading[:200], body(rng), published, published_at, created, updated))
        for artist_id in sorted(rng.sample(range(1, artists + 1), min(artists, rng.randint(1, 3)))):
            post_artists.append((len(post_artists) + 1, post_id, artist_id))
        for track_id in sorted(rng.sample(range(1, tracks + 1), min(tracks, rng.randint(1 if post_id == 1 else 0, 4)))):
            post_tracks.append((len(post_tracks) + 1, post_id, track_id))
    ctx.copy("content_post", [
        "id", "author_id", "title", "body", "is_published", "published_at", "created_at", "updated_at",
    ], posts)
    ctx.copy("content_post_artists", ["id", "post_id", "artist_id"], post_artists)
    ctx.copy("content_post_tracks", ["id", "post_id", "track_id"], post_tracks)
    ctx.counts["posts"] = total
    # Comments only go on published posts, after they were published.
    ctx.facts["post_published_at"] = published_at_by_post
