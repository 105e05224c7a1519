"""The prepare step every applier shares: tombstones and unmapped topics counted, poison collected,
the newest change per row kept by (LSN, position in the batch), the newest LSN tracked on request."""
from __future__ import annotations

from cdc.consumer import ApplyResult, ChangeEvent, PoisonEvent, prepare


def event(offset: int, op: str, row_id, lsn: int | None, topic: str = "t.public.a", ts: int = 0) -> ChangeEvent:
    row = None if op == "tombstone" else {"id": row_id, "n": offset}
    return ChangeEvent(topic, 0, offset, {"id": row_id}, op, row if op == "d" else None,
                       None if op in ("d", "tombstone") else row, lsn, ts, None, None, None)


def by_id(event: ChangeEvent):
    row = event.row
    if row["id"] is None:
        raise PoisonEvent("missing-key-column", "id")
    return ("a", row["id"]), (row["id"], event.op, event.offset)


def test_counts_poison_and_newest_change_per_row():
    events = [event(0, "c", 1, 10), event(1, "tombstone", 1, None), event(2, "u", 1, 30), event(3, "u", 1, 20),
              event(4, "c", 2, 15), event(5, "u", None, 16), event(6, "c", 3, 5, topic="t.cdc.heartbeat"),
              event(7, "u", 2, 15)]
    result = ApplyResult()
    prepared = prepare(events, {"t.public.a": by_id}, result)

    assert prepared.changes == [(1, "u", 2), (2, "u", 7)]   # LSN 30 beats the later LSN 20; equal LSNs: the later
    assert prepared.accepted == 5
    assert (result.tombstones, result.unmapped) == (1, 1)
    assert [(e.offset, p.reason) for e, p in result.poison] == [(5, "missing-key-column")]
    assert result.last_lsn is None and prepared.newest is None     # only tracked when asked


def test_an_event_without_lsn_is_older_than_any_with_one():
    prepared = prepare([event(0, "u", 1, 7), event(1, "u", 1, None)], {"t.public.a": by_id}, ApplyResult())
    assert prepared.changes == [(1, "u", 0)]


def test_track_lsn_takes_the_newest_accepted_event():
    result = ApplyResult()
    events = [event(0, "c", 1, 40, ts=4), event(1, "c", 2, 50, ts=5), event(2, "u", None, 90, ts=9),
              event(3, "c", 3, 50, ts=6)]
    prepared = prepare(events, {"t.public.a": by_id}, result, track_lsn=True)
    assert (result.last_lsn, result.last_source_ts_ms) == (50, 6)       # the poison's LSN 90 does not count
    assert prepared.newest is events[3]


def test_bad_row_exceptions_become_poison_only_when_named():
    def strict(event: ChangeEvent):
        return ("a", int(event.row["id"])), event.row

    bad = event(0, "c", "x", 1)
    result = ApplyResult()
    assert prepare([bad], {"t.public.a": strict}, result, bad_row=(ValueError,)).changes == []
    assert [(p.reason, p.detail) for _, p in result.poison] == [("bad-row", "ValueError: invalid literal for int() "
                                                                             "with base 10: 'x'")]
    try:
        prepare([bad], {"t.public.a": strict}, ApplyResult())
    except ValueError:
        pass
    else:
        raise AssertionError("without bad_row an unexpected error fails the batch, as before")


def test_known_poison_passed_in_is_kept_and_not_counted_as_dropped():
    known = (event(9, "c", 9, 1), PoisonEvent("undecodable"))
    result = ApplyResult(poison=[known])
    prepared = prepare([event(0, "c", 1, 1), event(1, "tombstone", 1, None)], {"t.public.a": by_id}, result)
    assert prepared.accepted == 1 and result.poison == [known]
