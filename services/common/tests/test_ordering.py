"""services.common.ordering against the monolith's StableOrderingFilter (DRF OrderingFilter + id tie-breaker)."""
from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.request import Request as DRFRequest
from sqlalchemy import column, select, table
from vobemusic.ordering import StableOrderingFilter

from services.common.ordering import order_by_clauses, ordered, requested_ordering

ALLOWED = ["popularity", "title", "created_at", "id"]


class View:
    ordering_fields = ALLOWED
    ordering = None


def drf_ordering(raw):
    request = DRFRequest(RequestFactory().get("/", {} if raw is None else {"ordering": raw}))
    return StableOrderingFilter().get_ordering(request, None, View())


def as_terms(ordering):
    return None if not ordering else [(t.lstrip("-"), t.startswith("-")) for t in ordering]


@pytest.mark.parametrize("raw", [None, "", "title", "-title", "-popularity", "bogus", "bogus,title", "title,bogus",
                                 " title , -created_at ", "-id", "id,title", "-popularity,id", "title,title",
                                 "--title", "+title", "-", ",", "title,,-id", "pk", "Title", "title.id",
                                 "popularity,-title", "-created_at,popularity"])
def test_ordering_equals_stable_ordering_filter(raw):
    assert requested_ordering(raw, ALLOWED) == as_terms(drf_ordering(raw))


def test_pk_counts_as_the_tie_breaker_when_allowed():
    assert requested_ordering("pk,title", ["pk", "title"]) == [("pk", False), ("title", False)]


def test_order_by_clauses_and_default():
    t = table("track", column("id"), column("title"), column("popularity"))
    columns = {"id": t.c.id, "title": t.c.title, "popularity": t.c.popularity}
    clauses = order_by_clauses([("popularity", True), ("id", True)], columns)
    assert [str(c) for c in clauses] == ["track.popularity DESC", "track.id DESC"]
    stmt = ordered(select(t.c.id), "bogus", ["title", "id"], columns, t.c.popularity.desc(), t.c.id.desc())
    assert str(stmt).endswith("ORDER BY track.popularity DESC, track.id DESC")
    stmt = ordered(select(t.c.id), "title", ["title", "id"], columns, t.c.popularity.desc())
    assert str(stmt).endswith("ORDER BY track.title ASC, track.id ASC")
