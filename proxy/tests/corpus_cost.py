"""Rough per-request cost of the corpus recorder (docs/proxy.md, "Regression corpus"):

    .venv/bin/python -m proxy.tests.corpus_cost

The sampling decision on a route that records nothing; the decision plus `take` on a route that
records everything (in an event loop, the writer thread flushing every 10 ms in the same process,
so its GIL time shows here too); the writer thread's CPU per entry. A quick loop, not a benchmark:
noisy on a shared machine."""
from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

from proxy.corpus.recording import CorpusRecorder
from proxy.routing.table import parse_route_table

TABLE = ("version: 1\nupstreams: {legacy: {url: 'http://127.0.0.1:1'}}\nroutes:\n"
         "  - {name: a, path: ^/a}\n  - {name: b, path: ^/, corpus: {sample: 1.0}}\n")
HEADERS = [(b"host", b"x"), (b"accept", b"application/json"),
           (b"authorization", b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo3fQ.abcdefghijk"),
           (b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-host", b"h"), (b"x-forwarded-proto", b"http"),
           (b"x-request-id", b"r")]


def decision_only(spec, n: int = 200_000) -> float:
    started = time.perf_counter()
    for _ in range(n):
        sample = spec.corpus.sample
        _ = sample > 0.0 and random.random() < sample
    return (time.perf_counter() - started) / n


async def decision_and_take(spec, recorder: CorpusRecorder, n: int = 8_000) -> float:
    started = time.perf_counter()
    for i in range(n):
        sample = spec.corpus.sample
        if sample > 0.0 and random.random() < sample:
            recorder.take("b", "GET", "/api/v1/tracks/", b"page=2&ordering=-popularity", HEADERS, b"", 200,
                          "legacy", "rid")
        if i % 500 == 499:
            await asyncio.sleep(0)  # let the flush timer run, as a serving loop would
    return (time.perf_counter() - started) / n


def writer_cpu(recorder: CorpusRecorder, n: int = 20_000) -> float:
    batch = [("b", "GET", "/api/v1/tracks/", b"page=2&ordering=-popularity", HEADERS, b"", 200, "legacy", "rid",
              time.time(), None)] * n
    recorder._taken += n
    started = time.process_time()
    recorder._write(batch)
    return (time.process_time() - started) / n


def main() -> None:
    table = parse_route_table(TABLE)
    off, on = table.routes[0].spec, table.routes[1].spec
    recorder = CorpusRecorder(Path(tempfile.mkdtemp()), "s", 8 << 20, 4, flush_seconds=0.01)
    print(f"off: {decision_only(off) * 1e9:.0f} ns/request")
    sampled = asyncio.run(decision_and_take(on, recorder))
    recorder.close()
    assert recorder.written == 8_000, "samples dropped: the figure would flatter the recorder"
    print(f"sampled, on the loop: {sampled * 1e6:.2f} us/request")
    print(f"writer thread: {writer_cpu(recorder) * 1e6:.1f} us CPU/entry (scrub + JSON + append), off the loop")


if __name__ == "__main__":
    main()
