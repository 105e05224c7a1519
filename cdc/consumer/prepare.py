"""The step every applier runs first: a batch of decoded events -> the changes to write.

    prepared = prepare(events, decoders, result)

- tombstones are counted and dropped (the op=d before each one carries the delete and its LSN;
  the tombstone is for log compaction);
- events of a topic without a decoder (heartbeats, tables the consumer does not take) are counted
  as unmapped;
- a decoder raising PoisonEvent (missing key, a value the target cannot hold) puts the event in
  result.poison; so do the exception types named in `bad_row`;
- of several changes to one row within the batch only the newest is kept, by (source LSN, position
  in the batch): a later event with the same LSN wins, an event without an LSN is older than any
  with one;
- with `track_lsn`, result.last_lsn / last_source_ts_ms come from the newest change kept.

What is specific to an applier is only its decoders: per topic, how an event becomes that
applier's change, and which row of which table it is (`(slot, change)`: changes with the same slot
are changes to one row). The loop is the per-event hot path of ChangeApplier, so it does nothing per
event beyond the decoder call."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Hashable, Mapping, Sequence, TypeVar

from cdc.consumer.contracts import ApplyResult
from cdc.consumer.envelope import ChangeEvent, PoisonEvent

Change = TypeVar("Change")
# event -> (the row it changes: equal for changes to one row, the change); raises PoisonEvent
RowDecoder = Callable[[ChangeEvent], tuple[Hashable, Change]]


@dataclass(slots=True)
class Prepared(Generic[Change]):
    changes: list[Change]        # the newest change per row, rows in order of first appearance
    accepted: int                # events that became a change (before keeping the newest per row)
    newest: ChangeEvent | None   # with track_lsn: the newest accepted event by (LSN, position)


def prepare(events: Sequence[ChangeEvent], decoders: Mapping[str, RowDecoder[Change]], result: ApplyResult, *,
            bad_row: tuple[type[BaseException], ...] = (), track_lsn: bool = False) -> Prepared[Change]:
    """Decode `events` with the decoder of their topic; counts and poison go to `result`."""
    newest: dict[Hashable, tuple[tuple[int, int], ChangeEvent, Change]] = {}
    poison = result.poison
    dropped = result.tombstones + result.unmapped + len(poison)
    for index, event in enumerate(events):
        if event.op == "tombstone":
            result.tombstones += 1
            continue
        decoder = decoders.get(event.topic)
        if decoder is None:
            result.unmapped += 1
            continue
        try:
            slot, change = decoder(event)
        except PoisonEvent as reason:
            poison.append((event, reason))
            continue
        except bad_row as exc:
            poison.append((event, PoisonEvent("bad-row", f"{type(exc).__name__}: {exc}")))
            continue
        order = (event.lsn if event.lsn is not None else -1, index)
        previous = newest.get(slot)
        if previous is None or order >= previous[0]:
            newest[slot] = (order, event, change)
    accepted = len(events) - (result.tombstones + result.unmapped + len(poison) - dropped)
    prepared = Prepared([change for _, _, change in newest.values()], accepted, None)
    if track_lsn and newest:
        # Only where asked: ChangeApplier takes its LSN from the progress rows it commits.
        event = max(newest.values(), key=_order)[1]
        prepared.newest = event
        if event.lsn is not None and (result.last_lsn is None or event.lsn >= result.last_lsn):
            result.last_lsn, result.last_source_ts_ms = event.lsn, event.source_ts_ms
    return prepared


def _order(entry: tuple[tuple[int, int], ChangeEvent, object]) -> tuple[int, int]:
    return entry[0]
