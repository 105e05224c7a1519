"""The kit's commands for one domain, named by its declaration module (which exports DOMAIN and
get_settings):

    python -m services.common.carve.cli services.catalog.domain snapshot         # bootstrap the replica
    python -m services.common.carve.cli services.catalog.domain align-sequences
    python -m services.common.carve.cli services.catalog.domain forward          # the CDC apply (run.py starts it)
    python -m services.common.carve.cli services.catalog.domain reverse          # the outbox replay (run.py starts it)
    python -m services.common.carve.cli services.catalog.domain parked           # parked outbox entries
    python -m services.common.carve.cli services.catalog.domain retry-parked     # try them again now
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json

import psycopg

from services.common.database import plain_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("domain_module")
    parser.add_argument("command", choices=["snapshot", "align-sequences", "forward", "reverse", "parked", "retry-parked"])
    parser.add_argument("--source", help="monolith database URL (default: the settings')")
    args = parser.parse_args()
    module = importlib.import_module(args.domain_module)
    domain, settings = module.DOMAIN, module.get_settings()
    from services.common.observability import configure_logging

    configure_logging(settings.log_level)
    if args.command == "snapshot":
        from services.common.carve.snapshot import copy_snapshot

        for table, count in copy_snapshot(domain, args.source or settings.monolith_database_url,
                                          settings.database_url).items():
            print(f"{table}: {count} rows")
    elif args.command == "align-sequences":
        from services.common.carve.snapshot import align_sequences

        with psycopg.connect(plain_url(settings.database_url)) as service, \
                psycopg.connect(plain_url(args.source or settings.monolith_database_url)) as monolith:
            print(json.dumps(align_sequences(domain, service, monolith)))
    elif args.command == "forward":
        from services.common.carve.forward_sync import build_runner

        runner = build_runner(domain, settings)
        # The runner is this process's main work: its start-up objects leave the collector's
        # scans (cdc.consumer.runner.freeze_startup_objects, ADR 0003).
        runner.freeze_gc = True
        runner.run()
    elif args.command == "reverse":
        from services.common.carve.reverse_sync import ReverseSync

        ReverseSync(domain, settings.database_url, settings.monolith_database_url).run(
            dt.timedelta(hours=settings.outbox_retention_hours))
    elif args.command == "parked":
        with psycopg.connect(plain_url(settings.database_url)) as conn:
            for row in conn.execute(f"SELECT id, table_name, row_id, op, attempts, parked_at, park_reason "
                                    f"FROM {domain.sync_table('outbox')} WHERE applied_at IS NULL "
                                    "AND parked_at IS NOT NULL ORDER BY id"):
                print(*row, sep="\t")
    elif args.command == "retry-parked":
        from services.common.carve.reverse_sync import ReverseSync

        count = ReverseSync(domain, settings.database_url, settings.monolith_database_url).retry_parked()
        print(f"{count} parked entries due now")


if __name__ == "__main__":
    main()
