"""Threaded comments on published posts: most posts get a handful, one in ten a long
discussion, and post 1 the longest (the benchmark's "post detail with comments").

About 60% of comments are replies to an earlier comment of the same post (never deeper than
comments.models.MAX_DEPTH); 4% are soft deleted, 8% edited. Every reply is newer than its parent,
and every comment newer than its post's publication."""
from __future__ import annotations

from datetime import timedelta

from comments.models import MAX_DEPTH
from demo_data.context import GenerationContext
from demo_data.words import ADJECTIVES, NOUNS

TABLES = ["comments_comment"]
SHOWCASE_POST_COMMENTS = 120
REPLY_SHARE = 0.6

OPENERS = ["Great write-up.", "Not sure I agree.", "This!", "Interesting take.", "Finally someone said it.",
           "Saw them live last year.", "Adding this to my playlist.", "The bridge is the best part.",
           "Underrated record.", "Too long, but worth it."]
FOLLOW_UPS = ["The {adjective} {noun} part gets me every time.", "Have you heard the {adjective} version?",
              "It reminds me of a {noun} at night.", "The mix is {adjective} on vinyl.",
              "Their earlier stuff was more {adjective}.", ""]


def thread_size(rng, post_id: int) -> int:
    if post_id == 1:
        return SHOWCASE_POST_COMMENTS
    if rng.random() < 0.1:
        return rng.randint(20, 80)
    return rng.randint(0, 8)


def comment_body(rng) -> str:
    follow = rng.choice(FOLLOW_UPS).format(adjective=rng.choice(ADJECTIVES).lower(), noun=rng.choice(NOUNS).lower())
    return f"{rng.choice(OPENERS)} {follow}".strip()


def generate(ctx: GenerationContext) -> None:
    rng = ctx.rng("comments")
    users = ctx.counts["users"]
    published_at = ctx.facts["post_published_at"]

    def rows():
        comment_id = 0
        for post_id in sorted(published_at):
            at = published_at[post_id]
            thread: list[tuple[int, int]] = []  # (id, depth) of this post's comments so far
            for _ in range(thread_size(rng, post_id)):
                comment_id += 1
                at += timedelta(seconds=rng.randrange(30, 1200))
                parent_id, depth = None, 0
                if thread and rng.random() < REPLY_SHARE:
                    candidate, candidate_depth = rng.choice(thread)
                    if candidate_depth < MAX_DEPTH:
                        parent_id, depth = candidate, candidate_depth + 1
                thread.append((comment_id, depth))
                edited = at + timedelta(minutes=rng.randrange(1, 120)) if rng.random() < 0.08 else None
                deleted = rng.random() < 0.04
                yield (comment_id, post_id, rng.randrange(users) + 1, parent_id, depth, comment_body(rng), deleted,
                       edited, at, edited or at)
        ctx.counts["comments"] = comment_id

    ctx.copy("comments_comment", [
        "id", "post_id", "author_id", "parent_id", "depth", "body", "is_deleted", "edited_at", "created_at",
        "updated_at",
    ], rows())
