"""The corpus on disk: one directory per route, JSON lines, a size cap with rotation.

    <PROXY_CORPUS_DIR>/<route>/<UTC start time>-<pid>.jsonl

Each serving process appends to a file of its own (no locking between processes); a file is closed
once it would pass `max_file_bytes` and a new one started; then the route's oldest files are deleted
until at most `max_files` remain. So a route's corpus never holds much more than
`max_files` x `max_file_bytes`, and always the most recent traffic.

One line (format version 1), every value already scrubbed (proxy/corpus/scrub.py):

    {"v": 1, "ts": "2026-12-03T12:00:00.123+00:00", "route": "catalog-read", "method": "GET",
     "path": "/api/v1/tracks/", "query": "page=2&ordering=-popularity",
     "headers": {"accept": "application/json", "authorization": "Bearer <token:3f9a...>",
                 "x-forwarded-host": "music.example.com", "x-forwarded-proto": "https"},
     "body": null, "body_format": null, "status": 200, "answered_by": "legacy", "request_id": "..."}

`body_format` is `json` (body: the scrubbed document), `form` or `text` (body: a scrubbed string),
`omitted` (body: null; the reason in `body_omitted`), or null when there was no body."""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Optional

import orjson

from proxy.corpus.scrub import Scrubber

log = logging.getLogger("proxy.corpus")

FORMAT_VERSION = 1
# Request headers kept (lower-case); every other header (cookies included) is left out.
RECORDED_HEADERS = ("accept", "accept-language", "content-type", "authorization",
                    "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port",
                    "x-forwarded-prefix")
_RECORDED = frozenset(h.encode() for h in RECORDED_HEADERS)


def build_entry(scrubber: Scrubber, route: str, method: str, path: str, query: bytes, headers,
                body: Optional[bytes], status: int, answered_by: str, request_id: str, when: float,
                body_omitted: Optional[str] = None) -> dict:
    """One corpus line from what the serving process saw, scrubbed."""
    kept: dict[str, str] = {}
    content_type = ""
    for name, value in headers:
        lower = name.lower()
        if lower not in _RECORDED:
            continue
        key, text = lower.decode("latin-1"), value.decode("latin-1")
        if key == "authorization":
            text = scrubber.authorization(text)
        elif key == "x-forwarded-for":
            text = scrubber.forwarded_for(text)
        else:
            text = scrubber.text(text)
            if key == "content-type":
                content_type = text.lower()
        kept[key] = f"{kept[key]}, {text}" if key in kept else text
    entry = {"v": FORMAT_VERSION, "ts": datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="milliseconds"),
             "route": route, "method": method, "path": scrubber.text(path),
             "query": scrubber.query(query.decode("latin-1")), "headers": kept, "body": None,
             "body_format": None, "status": status, "answered_by": answered_by, "request_id": request_id}
    if body_omitted:
        entry["body_format"], entry["body_omitted"] = "omitted", body_omitted
    elif body:
        entry["body_format"], entry["body"] = scrub_body(scrubber, body, content_type)
    return entry


def scrub_body(scrubber: Scrubber, body: bytes, content_type: str) -> tuple[str, object]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "omitted", None  # binary uploads are not kept
    if "json" in content_type or (not content_type and text.lstrip()[:1] in ("{", "[")):
        try:
            return "json", scrubber.json(orjson.loads(body))
        except orjson.JSONDecodeError:
            pass
    if content_type.startswith("application/x-www-form-urlencoded"):
        return "form", scrubber.form(text)
    if content_type.startswith("multipart/"):
        return "omitted", None
    return "text", scrubber.text(text)


class CorpusWriter:
    """Appends lines to the route's current file; rotates and trims by size. One thread uses it."""

    def __init__(self, directory: Path, max_file_bytes: int = 8 * 1024 * 1024, max_files: int = 4):
        self.directory = Path(directory)
        self.max_file_bytes = max_file_bytes
        self.max_files = max(1, max_files)
        self._files: dict[str, tuple[Path, int]] = {}  # route -> (current file, its size)

    def append(self, route: str, lines: Iterable[bytes]) -> None:
        data = b"".join(lines)
        if not data:
            return
        path, size = self._files.get(route) or self._new_file(route)
        if size and size + len(data) > self.max_file_bytes:
            path, size = self._new_file(route)
        with open(path, "ab") as handle:
            handle.write(data)
        self._files[route] = (path, size + len(data))

    def _new_file(self, route: str) -> tuple[Path, int]:
        folder = self.directory / route
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = folder / f"{stamp}-{os.getpid()}.jsonl"
        number = 1
        while path.exists():
            number += 1
            path = folder / f"{stamp}-{os.getpid()}-{number}.jsonl"
        path.touch()
        self._trim(folder, keep=path)
        self._files[route] = (path, 0)
        return path, 0

    def _trim(self, folder: Path, keep: Path) -> None:
        files = sorted(folder.glob("*.jsonl"), key=lambda p: (p.stat().st_mtime, p.name))
        for old in files[:max(0, len(files) - self.max_files)]:
            if old != keep:
                old.unlink(missing_ok=True)


def corpus_files(corpus: Path, route: Optional[str] = None) -> list[Path]:
    """The JSON-lines files of a corpus: a file itself, a route's folder, or the corpus root (then
    `route`'s folder when it exists, else every folder), oldest first."""
    corpus = Path(corpus)
    if corpus.is_file():
        return [corpus]
    if route and (corpus / route).is_dir():
        corpus = corpus / route
    return sorted(corpus.rglob("*.jsonl"), key=lambda p: (p.name, str(p)))


def read_entries(corpus: Path, route: Optional[str] = None) -> Iterator[dict]:
    for path in corpus_files(corpus, route):
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    log.warning("corpus line not JSON, skipped", extra={"file": str(path), "line": number})
                    continue
                if route is None or entry.get("route") == route:
                    yield entry
