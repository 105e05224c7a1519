"""Turn a post's comments, serialized flat, into a thread of nested replies.

The whole thread comes from one query (``Comment.objects.for_post``) and is assembled here in
Python, so a post page costs the same number of queries however deep or wide its discussion is.
"""
from __future__ import annotations

from collections.abc import Iterable


def nest(rows: Iterable[dict]) -> list[dict]:
    """Attach every row to its parent's ``replies`` list and return the top-level rows.

    ``rows`` are comment dicts with ``id`` and ``parent`` (an id or None). Siblings keep the
    input order (oldest first). A row whose parent is not in the input is kept at the top level
    rather than silently dropped, so a partial input never loses comments.
    """
    rows = list(rows)
    by_id = {row["id"]: row for row in rows}
    roots: list[dict] = []
    for row in rows:
        row["replies"] = []
    for row in rows:
        parent = by_id.get(row["parent"]) if row["parent"] is not None else None
        (parent["replies"] if parent is not None else roots).append(row)
    return roots
