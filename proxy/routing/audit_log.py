"""The route table's audit trail: one JSON line per applied change (who, when, old -> new).

Written once per change, however many serving processes apply it: an edit through the admin API or
`cli set --offline` is recorded by its editor while it still holds the route file's lock; a change
a serving process finds (file watcher, SIGHUP: a hand edit) is recorded by `record_once`, which
skips what the log already ends with. The supervisor records the table loaded at start. Read back
by `cli audit` and `GET /_proxy/audit`."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pwd
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from proxy.routing.table import RouteTable

_FIELDS = ("mode", "percent", "target", "compare", "path", "methods", "fallback", "max_body_bytes")


def describe_changes(old: Optional[RouteTable], new: RouteTable) -> list[dict]:
    """Per-route and per-upstream differences between two tables, as `{route, old, new}` entries."""
    changes: list[dict] = []
    old_routes = {r.name: r.spec for r in old.routes} if old else {}
    new_routes = {r.name: r.spec for r in new.routes}
    for name in [*old_routes, *[n for n in new_routes if n not in old_routes]]:
        before, after = old_routes.get(name), new_routes.get(name)
        if before is None or after is None:
            changes.append({"route": name, "old": _route_view(before), "new": _route_view(after)})
            continue
        b, a = _route_view(before), _route_view(after)
        if b != a:
            changed = {k for k in {*b, *a} if b.get(k) != a.get(k)}
            changes.append({"route": name, "old": {k: b.get(k) for k in sorted(changed)},
                            "new": {k: a.get(k) for k in sorted(changed)}})
    old_up = {k: v.model_dump() for k, v in old.upstreams.items()} if old else {}
    new_up = {k: v.model_dump() for k, v in new.upstreams.items()}
    for name in sorted({*old_up, *new_up}):
        if old_up.get(name) != new_up.get(name):
            changes.append({"upstream": name, "old": old_up.get(name), "new": new_up.get(name)})
    if old and old.document.compare_profiles != new.document.compare_profiles:
        changes.append({"compare_profiles": "changed"})
    return changes


def _route_view(spec) -> Optional[dict]:
    if spec is None:
        return None
    data = spec.model_dump(mode="json")
    view = {k: data[k] for k in _FIELDS if data.get(k) is not None}
    view["shadow"] = data["shadow"]
    return view


def file_editor(path: Path) -> str:
    """Best available answer to "who edited this file": its owner (hand edits carry no author)."""
    try:
        owner = pwd.getpwuid(path.stat().st_uid).pw_name
    except (KeyError, OSError):
        owner = "unknown"
    return f"file-edit (owner {owner})"


def current_actor() -> str:
    user = os.environ.get("SUDO_USER") or os.environ.get("USER") or pwd.getpwuid(os.getuid()).pw_name
    return f"{user}@{socket.gethostname()}"


class AuditLog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, who: str, source: str, old: Optional[RouteTable], new: RouteTable,
               changes: Optional[list] = None, note: str = "", extra: Optional[dict] = None) -> dict:
        """`extra`: more fields of the entry, e.g. `id` and `ownership` for a write-ownership
        handover (routing/handover.py)."""
        with self._lock, open(self._lock_path(), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            entry = self._entry(who, source, old, new, changes, note)
            entry.update(extra or {})
            return self._append(entry)

    def _entry(self, who, source, old, new, changes, note) -> dict:
        entry = {
            "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "who": who,
            "source": source,
            "file": new.source,
            "old_sha256": old.sha256 if old else None,
            "new_sha256": new.sha256,
            "changes": changes if changes is not None else describe_changes(old, new),
        }
        if note:
            entry["note"] = note
        return entry

    def _append(self, entry: dict) -> dict:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=False) + "\n")
        return entry

    def record_once(self, who: str, source: str, old: Optional[RouteTable], new: RouteTable,
                    current_text: Optional[str]) -> Optional[dict]:
        """Record a change this process found, unless it is already the log's latest entry (another
        process or the editor wrote it) or the file has moved on since (`current_text` differs: the
        newer state is recorded by whoever loads it). Call under the route file's shared lock."""
        if current_text is not None and hashlib.sha256(current_text.encode()).hexdigest() != new.sha256:
            return None
        with self._lock, open(self._lock_path(), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # serving processes holding the shared route lock race here
            last = self.last()
            if last is not None and last.get("new_sha256") == new.sha256:
                return None
            return self._append(self._entry(who, source, old, new, None, ""))

    def last(self) -> Optional[dict]:
        try:
            with open(self.path, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - 65536))
                lines = handle.read().splitlines()
        except FileNotFoundError:
            return None
        for line in reversed(lines):
            try:
                return json.loads(line)
            except ValueError:  # the first, cut line of the window, or a torn write
                continue
        return None

    def _lock_path(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self.path.with_name(f".{self.path.name}.lock")

    def tail(self, limit: int = 50) -> list[dict]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines[-limit:] if line.strip()]
