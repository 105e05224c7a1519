"""``manage.py generate_demo_data``: deterministic demo data for every domain, loaded with COPY.

Lives in the catalog app only because a management command needs an installed app; the
generator itself is the ``demo_data`` package (one module per domain, see its docstring)."""
from __future__ import annotations

import importlib
import time
from datetime import datetime, timezone

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

import demo_data
from demo_data.context import GenerationContext

DEFAULT_REFERENCE = "2026-01-01"


class Command(BaseCommand):
    help = (
        "Generate deterministic demo data (same --seed and scale -> same rows and ids). "
        "Known logins: admin/admin-password-123 (admin), demo/demo-password-123 (user)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tracks", type=int, default=10_000, help="catalogue size (default 10000; 1000000 for benchmarks)")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--reset", action="store_true", help="truncate the demo tables first (destroys their data)")
        parser.add_argument("--listens-per-track", type=float, default=2.0)
        parser.add_argument(
            "--reference-date", default=DEFAULT_REFERENCE,
            help=f"'now' of the generated history, YYYY-MM-DD (default {DEFAULT_REFERENCE}; fixed for determinism)",
        )
        parser.add_argument("--if-empty", action="store_true", help="do nothing (successfully) when users already exist")

    def handle(self, *args, tracks, seed, reset, listens_per_track, reference_date, if_empty, **options):
        if tracks < 1:
            raise CommandError("--tracks must be at least 1")
        modules = [importlib.import_module(name) for name in demo_data.DOMAIN_MODULES]
        tables = [table for module in modules for table in module.TABLES]
        reference = datetime.fromisoformat(reference_date).replace(tzinfo=timezone.utc)
        ctx = GenerationContext(seed=seed, tracks=tracks, reference_time=reference, listens_per_track=listens_per_track)
        ctx.log = lambda message: self.stdout.write(message)

        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if reset:
                quoted = ", ".join(f'"{table}"' for table in tables)
                cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
            else:
                cursor.execute("SELECT EXISTS (SELECT 1 FROM accounts_user)")
                if cursor.fetchone()[0]:
                    if if_empty:
                        self.stdout.write("Users already exist; leaving the data as it is.")
                        return
                    raise CommandError("The database already has users; pass --reset to replace the demo data.")
            # The generated rows are consistent by construction; skipping the per-row foreign key
            # triggers makes COPY several times faster. Needs superuser, which the local stack has.
            _skip_fk_triggers(cursor)
            for module in modules:
                self.stdout.write(f"{module.__name__}:")
                module.generate(ctx)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'ANALYZE "{table}"')
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{n} {name}" for name, n in ctx.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Generated {summary} in {elapsed:.1f}s (seed {seed})."))


def _skip_fk_triggers(cursor) -> None:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:
        cursor.execute("SET LOCAL session_replication_role = replica")
