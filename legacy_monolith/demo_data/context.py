"""What every demo-data module gets: seeded randomness, the scale, counts of what earlier modules
made, and a fast COPY loader."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Sequence

from django.db import connection

# Rows are streamed to COPY in chunks of this many bytes.
COPY_CHUNK_BYTES = 4 * 1024 * 1024
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """One value in Postgres COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.translate(_ESCAPES)
    return text


@dataclass
class GenerationContext:
    seed: int
    tracks: int
    reference_time: datetime
    listens_per_track: float = 2.0
    counts: dict[str, int] = field(default_factory=dict)
    # Per-row facts later modules need without querying (e.g. track durations for listens).
    facts: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    log = print

    def rng(self, name: str) -> random.Random:
        """A generator private to ``name``: adding a module never changes another module's rows."""
        return random.Random(f"{self.seed}:{name}")

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence], *, lines: bool = False) -> int:
        """COPY ``rows`` into ``table`` and move its id sequence past the loaded ids; returns the row count.

        With ``lines=True`` the rows are already COPY text lines (tab-separated, ``\\N`` for NULL,
        newline-terminated): the fast path for million-row tables."""
        started = time.perf_counter()
        sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        count = 0
        with connection.cursor() as cursor:
            with cursor.cursor.copy(sql) as copy:
                buffer: list[str] = []
                size = 0
                for row in rows:
                    line = row if lines else "\t".join([copy_text(v) for v in row]) + "\n"
                    buffer.append(line)
                    size += len(line)
                    count += 1
                    if size >= COPY_CHUNK_BYTES:
                        copy.write("".join(buffer).encode())
                        buffer, size = [], 0
                if buffer:
                    copy.write("".join(buffer).encode())
            if "id" in columns:
                reset_sequence(cursor, table)
        self.timings[table] = time.perf_counter() - started
        self.log(f"  {table}: {count} rows in {self.timings[table]:.1f}s")
        return count


def reset_sequence(cursor, table: str) -> None:
    """Point the id sequence after the highest id, so the application's next insert does not collide."""
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
        f'FROM "{table}"'
    )
