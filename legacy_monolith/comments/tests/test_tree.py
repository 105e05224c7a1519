"""comments.tree.nest: the thread built from a flat list."""
from comments.tree import nest


def row(id, parent=None):
    return {"id": id, "parent": parent}


def shape(nodes):
    return [(n["id"], shape(n["replies"])) for n in nodes]


def test_nests_in_input_order():
    rows = [row(1), row(2, 1), row(3), row(4, 2), row(5, 1)]
    assert shape(nest(rows)) == [(1, [(2, [(4, [])]), (5, [])]), (3, [])]


def test_reply_listed_before_its_parent_is_still_nested():
    assert shape(nest([row(2, 1), row(1)])) == [(1, [(2, [])])]


def test_orphan_is_kept_at_top_level():
    assert shape(nest([row(7, 99)])) == [(7, [])]


def test_empty():
    assert nest([]) == []
