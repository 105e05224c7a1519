"""The route table's audit trail: one JSON line per applied change (who, when, old -> new).

Written by whoever changes the table that serves traffic: the admin API (a flip), the watcher or
SIGHUP (a hand edit of the file), or the CLI in --offline mode. Read back by `cli audit` and
`GET /_proxy/audit`."""
from __future__ import annotations

import json
import os
import pwd
import socket
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from proxy.route_table import RouteTable

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
               changes: Optional[list] = None, note: str = "") -> dict:
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
        line = json.dumps(entry, sort_keys=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
        return entry

    def tail(self, limit: int = 50) -> list[dict]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines[-limit:] if line.strip()]
