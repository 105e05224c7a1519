"""What ConsumerRunner talks to: the applier that writes a batch to its target, and the optional
event filter that takes events out of a batch before apply.

    runner = ConsumerRunner(topic_map, engine, group_id="catalog", event_filter=drop_echoes)

    def drop_echoes(events: list[ChangeEvent]) -> FilteredBatch:
        echoes = [e for e in events if is_echo(e)]
        return FilteredBatch([e for e in events if not is_echo(e)], echoes, "echo")

A skipped event is not applied, but it is consumed like any other: its offset is committed, the
applier records its progress row and LSN in the same transaction as the batch (so the sync
position keeps advancing while only skipped events flow), and cdc_consumer_events_total counts it
under the filter's outcome (not as a tombstone)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional, Protocol, Sequence, runtime_checkable

from cdc.consumer.envelope import ChangeEvent, PoisonEvent

Poison = tuple[ChangeEvent, PoisonEvent]
# Publishes poison to the dead-letter topic and returns once the broker holds it.
DeadLetterSink = Callable[[list[Poison]], None]
# (topic, partition) -> (last applied offset, relay epoch it was read in)
ResumeOffsets = Mapping[tuple[str, int], tuple[int, Optional[str]]]


@dataclass
class ApplyResult:
    applied: int = 0
    skipped_older: int = 0
    tombstones: int = 0
    unmapped: int = 0
    poison: list[Poison] = field(default_factory=list)
    last_lsn: int | None = None
    last_source_ts_ms: int | None = None


@dataclass
class FilteredBatch:
    """An event filter's answer: `events` go on to apply, `skipped` are consumed without being
    applied and counted as `outcome`. Together they are the batch the filter was given."""

    events: list[ChangeEvent]
    skipped: list[ChangeEvent] = field(default_factory=list)
    outcome: str = "filtered"


class EventFilter(Protocol):
    """Called once per batch, before apply, with the batch's decoded events (poison excluded).

    May do I/O (the catalog looks its echo markers up); an exception fails the batch, which the
    runner applies again, filter included, so the filter must give the same answer for a batch
    read again."""

    def __call__(self, events: list[ChangeEvent]) -> FilteredBatch: ...


@runtime_checkable
class Applier(Protocol):
    """Writes a batch to the consumer's target; the runner commits Kafka offsets only after
    `apply` returned. ChangeApplier (mirror tables) and the search service's IndexApplier are the
    two implementations.

    The runner uses every member:
    - `epoch`: set before each batch to the relay epoch it was read in (record it with the
      progress rows if the applier keeps any, else ignore it);
    - `dead_letter`: set before each batch; an applier that finds poison while applying (a row the
      target rejects) calls it before it records progress past that poison, so a stop in between
      cannot skip it unrecorded. Poison returned in ApplyResult.poison is dead-lettered by the
      runner after apply otherwise;
    - `resume_offsets()`: where each partition resumes after an assignment (the last applied
      offset per partition and its epoch, as recorded with the target's data), or None when the
      applier keeps no progress of its own: Kafka's committed offsets (or the earliest) apply."""

    epoch: Optional[str]
    dead_letter: Optional[DeadLetterSink]

    def apply(self, events: list[ChangeEvent], poison: Iterable[Poison] = (),
              skipped: Sequence[ChangeEvent] = ()) -> ApplyResult:
        """Apply `events`; `poison` (already dead-lettered) and `skipped` (taken out by the event
        filter) are not applied but count as consumed: progress past them is recorded with the
        batch. Events the target cannot take are returned in result.poison; everything else is
        committed when this returns."""
        ...

    def resume_offsets(self) -> Optional[ResumeOffsets]: ...
