"""Edits of the route table file that keep it human: comments, order and layout survive a flip.

Every edit is read-modify-validate-write under an exclusive lock, written to a temporary file and
renamed over the original, so a reader (the proxy's watcher) sees either the old or the new file,
never half of one, and an edit that would make the table invalid is refused before it is written.
"""
from __future__ import annotations

import fcntl
import io
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

from ruamel.yaml import YAML

from proxy.routing.table import Mode, RouteTable, RouteTableError, parse_route_table


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


@contextmanager
def locked(path: Path, shared: bool = False) -> Iterator[None]:
    """The route file's lock: exclusive for an edit (and its audit entry), shared for a serving
    process that audits a change it found, so it never records an edit before its editor does."""
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def edit_route(text: str, source: str, name: str, mode: str, percent: Optional[float] = None,
               target: Optional[str] = None) -> tuple[RouteTable, str, RouteTable]:
    """Route `name` set to `mode` (canary needs `percent`) in the file's text, comments kept;
    returns (old table, new text, new table). Raises RouteTableError if the route does not exist,
    the text is invalid, or the result would be invalid."""
    try:
        mode = Mode(mode).value
    except ValueError:
        raise RouteTableError(f"unknown mode {mode!r}; use one of {', '.join(m.value for m in Mode)}") from None
    old = parse_route_table(text, source)
    yaml = _yaml()
    document = yaml.load(text)
    entry = next((r for r in document.get("routes") or () if r.get("name") == name), None)
    if entry is None:
        raise RouteTableError(f"no route named {name!r}; routes: {', '.join(r.name for r in old.routes)}")
    entry["mode"] = mode
    if mode == Mode.CANARY.value:
        if percent is None:
            raise RouteTableError("mode canary needs a percentage, e.g. `set NAME canary 5`")
        entry["percent"] = int(percent) if float(percent).is_integer() else float(percent)
    elif "percent" in entry:
        del entry["percent"]
    if target is not None:
        entry["target"] = target
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    new_text = buffer.getvalue()
    return old, new_text, parse_route_table(new_text, source)


def set_route_mode(path: str | Path, name: str, mode: str, percent: Optional[float] = None,
                   target: Optional[str] = None,
                   audit: Optional[Callable[[RouteTable, RouteTable], object]] = None) -> tuple[RouteTable, RouteTable]:
    """Flip route `name` to `mode` in the file; returns (old, new) tables. `audit(old, new)` runs
    after the write, still under the lock: the editor's entry (with its author) is the one the
    audit log keeps, whichever serving process reloads first. Flips that may hand write
    ownership over go through routing/handover.py instead.

    Raises RouteTableError as edit_route does; the file is then left untouched."""
    path = Path(path)
    with locked(path):
        old, new_text, new = edit_route(path.read_text(encoding="utf-8"), str(path), name, mode, percent, target)
        write_atomically(path, new_text)
        if audit is not None and new.sha256 != old.sha256:
            audit(old, new)
    return old, new
