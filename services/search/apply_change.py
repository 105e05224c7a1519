"""Applying row changes (from CDC events or a snapshot) to the replica and the search index.

One batch = one replica transaction (one `seq`) followed by one index write. The index is written
only after the replica committed, and callers commit their consumer offsets only after `apply`
returned, so a crash anywhere replays the batch, and replaying is harmless: replica writes are
upserts guarded by the source LSN and documents are re-rendered from the replica.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

from services.search import metrics
from services.search.denormalise import DOCUMENT_ENTITIES, affected_documents, assemble
from services.search.index_backend import SearchBackend
from services.search.replica import Replica
from services.search.sources import BY_TABLE

logger = logging.getLogger("services.search.apply")


@dataclass(frozen=True)
class RowChange:
    """One row's new state. `row` is the raw after-image (any Debezium or psycopg encoding) or None
    for a delete; `lsn` orders changes to the same row."""

    table: str
    key: int
    row: Optional[Mapping]
    lsn: int


class SearchIndexer:
    def __init__(self, replica: Replica, backend: Optional[SearchBackend], render_batch: int = 2000):
        self.replica = replica
        self.backend = backend
        self.render_batch = render_batch

    def apply(self, changes: Iterable[RowChange], update_index: bool = True) -> int:
        """Write a batch of changes; returns how many documents were written or removed.
        `update_index=False` only fills the replica (a replay before a full rebuild)."""
        by_entity: dict[str, list] = defaultdict(list)
        for change in changes:
            source = BY_TABLE.get(change.table)
            if source is None:
                continue
            clean = None if change.row is None else source.clean(change.row)
            by_entity[source.entity].append((change.key, change.lsn, clean))
        if not by_entity:
            return 0
        with self.replica.engine.begin() as conn:
            seq = self.replica.next_seq(conn)
            for entity, rows in by_entity.items():
                self.replica.write(conn, entity, _last_per_key(rows), seq)
        if not update_index:
            return 0
        return self.reindex({entity: [key for key, _, _ in rows] for entity, rows in by_entity.items()})

    def reindex(self, changed: Mapping[str, Iterable[int]]) -> int:
        """Re-render every document the changed rows touch and write them to the index."""
        written = 0
        upserts: list = []
        deletes: dict[str, list[int]] = {}

        def flush():
            nonlocal upserts, deletes, written
            if upserts or deletes:
                with metrics.INDEX_WRITE_SECONDS.time():
                    self.backend.apply(upserts, deletes)
                for doc in upserts:
                    metrics.DOCUMENTS_WRITTEN.labels(doc.kind).inc()
                for kind, ids in deletes.items():
                    metrics.DOCUMENTS_REMOVED.labels(kind).inc(len(ids))
                written += len(upserts) + sum(map(len, deletes.values()))
            upserts, deletes = [], {}

        with self.replica.engine.connect() as conn:
            dirty = affected_documents(conn, self.replica, changed)
            for kind in DOCUMENT_ENTITIES:
                ids = sorted(dirty.get(kind, ()))
                for start in range(0, len(ids), self.render_batch):
                    docs, gone = assemble(conn, self.replica, kind, ids[start:start + self.render_batch])
                    upserts += docs
                    if gone:
                        deletes.setdefault(kind, []).extend(gone)
                    # A small batch becomes visible in one write (a renamed artist and its tracks
                    # together); a large cascade is written in bounded chunks.
                    if len(upserts) >= self.render_batch:
                        flush()
            flush()
        return written

    def follow_generation(self) -> None:
        """If a rebuild published a new index generation, switch to it and replay what the replica
        received while it was being built."""
        built_from = self.backend.follow_generation()
        if built_from is None:
            return
        with self.replica.engine.connect() as conn:
            changed = self.replica.changed_since(conn, built_from)
        count = self.reindex(changed)
        metrics.GENERATION_SWITCHES.inc()
        logger.info("switched to index generation %s, replayed %d documents", self.backend.generation()[0], count)


def _last_per_key(rows: list[tuple[int, int, Optional[dict]]]) -> list[tuple[int, int, Optional[dict]]]:
    """Within one batch only the newest change of a row matters (one upsert statement may not touch
    the same row twice)."""
    newest: dict[int, tuple[int, int, Optional[dict]]] = {}
    for key, lsn, row in rows:
        if key not in newest or newest[key][1] <= lsn:
            newest[key] = (key, lsn, row)
    return list(newest.values())
