"""Feedback tickets: one per five users (at least 20), a tenth of them sent anonymously with
just an email. Tickets spread over the workflow's statuses; the ones staff have touched carry a
staff note."""
from __future__ import annotations

from datetime import timedelta

from demo_data.context import GenerationContext

TABLES = ["feedback_ticket"]
WINDOW_SECONDS = 180 * 86400

SUBJECTS = {
    "bug": ["Player skips at the end of a track", "Playlist order resets", "Search shows duplicates",
            "Login loop on mobile", "Album cover missing"],
    "feature": ["Dark mode", "Offline listening", "Collaborative playlists", "Lyrics view", "Sleep timer"],
    "content": ["Wrong artist on a track", "Explicit track not marked", "Duplicate album", "Typo in a post"],
    "account": ["Cannot change my email", "Delete my account", "Two-factor login", "Profile picture upload"],
    "other": ["Thanks for the app", "Question about prices", "Partnership enquiry"],
}
MESSAGES = ["Steps: open the app, play anything, wait. Happens every time.",
            "It would make the app much nicer for me and my friends.",
            "Please have a look when you can. Thanks!",
            "I noticed this yesterday on the web player.",
            "Details: latest version, stable connection."]
STAFF_NOTES = ["Reproduced, ticket for the player team.", "Asked the user for a screen recording.",
               "Duplicate of an earlier report.", "Fixed in the latest release.", "Forwarded to the catalogue team."]
# How the generated tickets spread over the workflow.
STATUS_WEIGHTS = {"open": 4, "in_progress": 2, "resolved": 3, "closed": 3}


def ticket_count(users: int) -> int:
    return max(20, users // 5)


def generate(ctx: GenerationContext) -> None:
    rng = ctx.rng("feedback")
    users = ctx.counts["users"]
    ref = ctx.reference_time
    categories = list(SUBJECTS)
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    rows = []
    for ticket_id in range(1, ticket_count(users) + 1):
        category = rng.choice(categories)
        created = ref - timedelta(seconds=rng.randrange(WINDOW_SECONDS))
        status = rng.choices(statuses, weights)[0]
        updated = created if status == "open" else created + timedelta(hours=rng.randrange(1, 240))
        note = rng.choice(STAFF_NOTES) if status != "open" else ""
        if rng.random() < 0.1:
            author_id, email = None, f"guest{ticket_id}@example.org"
        else:
            # Signed-in senders (the demo user and the generated accounts, not the admin) are
            # answered through their account, so no separate email is stored for them.
            author_id, email = rng.randrange(1, users) + 1, ""
        rows.append((ticket_id, author_id, email, category, rng.choice(SUBJECTS[category]), rng.choice(MESSAGES),
                     status, note, created, min(updated, ref)))
    ctx.copy("feedback_ticket", [
        "id", "author_id", "email", "category", "subject", "message", "status", "staff_note", "created_at",
        "updated_at",
    ], rows)
    ctx.counts["tickets"] = len(rows)
