"""The shadow record file: JSON lines appended by the shadow worker, rotated by size like
logging's RotatingFileHandler (`shadow-records.jsonl`, `.1`, `.2`, ...), so `cli report --file`
and a restarted worker's replay read it the same way as before.

Lines written in one event-loop step go to the file in one `write` at the end of the step. This
replaced a logging QueueHandler feeding a writer thread: one queue put, one thread wake-up and a
GIL hand-over per record were about a third of the shadow worker's CPU per mirror. Writes go to
the page cache; the shadow worker is off the clients' path, so a slow disk delays only shadow work
(its bounded queue then makes serving processes drop mirrors, counted)."""
from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

log = logging.getLogger("proxy.shadow")


class RecordFile:
    def __init__(self, path: Path, max_bytes: int = 50 * 1024 * 1024, backups: int = 3):
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = self._open()
        self._size = os.fstat(self._fd).st_size
        self._pending: list[bytes] = []

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def append(self, line: bytes) -> None:
        """Queue one line (ending in a newline) for the write at the end of this loop step."""
        if not self._pending:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no event loop (tools, tests): write now
                self._pending.append(line)
                self.flush()
                return
        self._pending.append(line)

    def flush(self) -> None:
        if not self._pending or self._fd < 0:
            return
        data = b"".join(self._pending)
        self._pending = []
        try:
            if self._size and self._size + len(data) > self.max_bytes:
                self._rotate()
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:  # disk full, file gone: the live report keeps these records, the file loses them
            log.error("shadow records not written", extra={"records": data.count(b"\n"), "error": str(exc)})
            return
        self._size += len(data)

    def _rotate(self) -> None:
        os.close(self._fd)
        self._fd = -1
        try:
            if self.backups > 0:
                for number in range(self.backups - 1, 0, -1):
                    older = self.path.with_name(f"{self.path.name}.{number}")
                    if older.exists():
                        os.replace(older, self.path.with_name(f"{self.path.name}.{number + 1}"))
                os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
            else:
                self.path.unlink(missing_ok=True)
        finally:  # whatever the renames did, keep appending to the file at `path`
            self._fd = self._open()
            self._size = os.fstat(self._fd).st_size

    def close(self) -> None:
        self.flush()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
