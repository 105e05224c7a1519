"""The monolith's StableOrderingFilter (vobemusic.ordering) for SQLAlchemy queries.

`?ordering=a,-b` keeps only the terms naming an allowed field (DRF's remove_invalid_fields); if none
is left the view's default ordering applies. The primary key is appended as a tie-breaker in the
direction of the first term unless `id` is already named, so pages never overlap."""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence


def requested_ordering(raw: Optional[str], allowed: Sequence[str]) -> Optional[list[tuple[str, bool]]]:
    """[(field, descending), ...] the client asked for, or None to keep the default ordering."""
    if not raw:
        return None
    terms = []
    for term in (part.strip() for part in raw.split(",")):
        name = term[1:] if term.startswith("-") else term
        if name in allowed:
            terms.append((name, term.startswith("-")))
    if not terms:
        return None
    if not any(name in ("id", "pk") for name, _ in terms):
        terms.append(("id", terms[0][1]))
    return terms


def order_by_clauses(terms: Sequence[tuple[str, bool]], columns: Mapping[str, Any]) -> list:
    return [columns[name].desc() if descending else columns[name].asc() for name, descending in terms]


def ordered(stmt, raw: Optional[str], allowed: Sequence[str], columns: Mapping[str, Any], *default):
    """`stmt` ordered as the client asked (`?ordering=`), or by the view's `default` columns."""
    terms = requested_ordering(raw, allowed)
    return stmt.order_by(*order_by_clauses(terms, columns)) if terms else stmt.order_by(*default)
