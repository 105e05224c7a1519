"""Rebuild the whole search index with one command, with a progress bar.

    python -m services.search.rebuild                      # from the service's replica (fast)
    python -m services.search.rebuild --from snapshot      # refresh the replica from a consistent
                                                           #   snapshot of the monolith tables first
    python -m services.search.rebuild --from topics        # replay the CDC topics from the start first
    python -m services.search.rebuild --if-needed          # only when there is no usable index (no index
                                                           #   yet, or built by another schema version);
                                                           #   an empty replica is filled from a snapshot

Always builds a new index generation beside the live one and publishes it atomically; a running
service switches to it and replays what changed meanwhile (index_backend.py). Safe to run while the
service is up.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Optional

from services.search.denormalise import DOCUMENT_ENTITIES, assemble
from services.search.index_backend import IndexRebuild, SearchBackend
from services.search.progress import console, progress_bar
from services.search.replica import Replica

@dataclass
class BuiltGeneration:
    rebuild: IndexRebuild
    built_from_seq: int
    documents: int

    def publish(self) -> str:
        return self.rebuild.publish(self.built_from_seq)


def rebuild_from_replica(replica: Replica, backend: SearchBackend, progress: bool = True, publish: bool = True,
                         batch: int = 5000) -> BuiltGeneration:
    """Render every document from the replica into a new generation. `built_from_seq` is read before
    the first row, so every change after it is replayed by the service when it switches."""
    with replica.engine.connect() as conn:
        built_from_seq = replica.current_seq(conn)
        totals = {kind: replica.count(conn, kind) for kind in DOCUMENT_ENTITIES}
    rebuild = backend.begin_rebuild()
    written = 0
    try:
        with progress_bar(progress) as bar, replica.engine.connect() as conn:
            for kind in DOCUMENT_ENTITIES:
                task = bar.add_task(f"index {kind}s", total=totals[kind])
                for ids in replica.live_ids(conn, kind, batch):
                    docs, _gone = assemble(conn, replica, kind, ids)
                    rebuild.add(docs)
                    written += len(docs)
                    bar.advance(task, len(ids))
    except BaseException:
        rebuild.abandon()
        raise
    built = BuiltGeneration(rebuild, built_from_seq, written)
    if publish:
        built.publish()
    return built


def main(argv: Optional[list[str]] = None) -> int:
    from services.search.backends import backend_from_settings
    from services.search.settings import SearchSettings, sync_url

    parser = argparse.ArgumentParser(prog="python -m services.search.rebuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", choices=["replica", "snapshot", "topics"], default="replica")
    parser.add_argument("--source-url", help="monolith database for --from snapshot (default MONOLITH_DATABASE_URL)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--if-needed", action="store_true", help="skip when the live index is usable")
    parser.add_argument("--idle-seconds", type=float, default=10,
                        help="--from topics: the replay is complete when no event arrived for this long")
    args = parser.parse_args(argv)

    settings = SearchSettings()
    replica = Replica(sync_url(settings.database_url))
    replica.create_schema()
    backend = backend_from_settings(settings)
    if args.if_needed:
        if settings.backend == "tantivy":
            from services.search.tantivy_backend import live_generation_compatible

            if live_generation_compatible(settings.index_dir):
                console.print("search index is usable: nothing to do")
                return 0
        with replica.engine.connect() as conn:
            if args.source == "replica" and replica.count(conn, "track") == 0:
                args.source = "snapshot"
    started = time.monotonic()
    if args.source == "snapshot":
        from services.search.snapshot import load_snapshot

        load_snapshot(replica, args.source_url, progress=not args.no_progress)
    elif args.source == "topics":
        from services.search.cdc_consumer import replay_topics

        replay_topics(settings, replica, progress=not args.no_progress, idle_seconds=args.idle_seconds)
    built = rebuild_from_replica(replica, backend, progress=not args.no_progress)
    console.print(f"published {backend.name} generation with {built.documents} documents "
                  f"(replica seq {built.built_from_seq}) in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
