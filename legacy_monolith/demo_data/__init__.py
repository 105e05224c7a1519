"""Deterministic demo data at any scale, loaded with COPY.

``python manage.py generate_demo_data --tracks N [--seed S] [--reset]`` runs every module listed in
``DOMAIN_MODULES`` in order. Same seed and scale -> the same rows with the same primary keys.

Adding a domain (e.g. ``demo_data/content.py``) -- the module interface:

    TABLES = ["content_post", "content_post_artists", ...]   # tables it fills, parents first;
                                                              # --reset truncates them
    def generate(ctx: demo_data.context.GenerationContext) -> None:
        rng = ctx.rng("content")                    # private, seeded random.Random: never share one
        users = ctx.counts["users"]                 # ids 1..users exist (ctx.counts has "genres",
                                                    # "artists", "albums", "tracks", "users", "listens")
        ctx.copy("content_post", ["id", "author_id", ...], rows)   # rows: iterable of tuples;
                                                    # values: str/int/float/Decimal/bool/date/datetime/None
        ctx.counts["posts"] = n                     # for modules after this one
        # ctx.copy resets the table's id sequence after loading; ctx.reference_time is "now"
        # for the generated history (fixed, so the output does not depend on the day it runs).

Then append the module name to ``DOMAIN_MODULES`` below (after the modules it depends on).
Rows must be generated in id order from the module's own rng so output stays deterministic;
text must not contain tabs, newlines or backslashes (ctx.copy escapes them, but slowly).
"""

DOMAIN_MODULES = [
    "demo_data.accounts",
    "demo_data.catalog",
    "demo_data.listening",
    "demo_data.content",
    "demo_data.comments",
    "demo_data.feedback",
    "demo_data.playlists",
]
