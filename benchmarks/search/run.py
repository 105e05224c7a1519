"""Search benchmark: the search service against the monolith's legacy search, in one run, on the same
catalogue (normally the 1M-track demo dataset).

    .venv/bin/python -m benchmarks.search.dataset      # once: own cluster with the 1M-track catalogue
    flock /tmp/vobe-bench.lock .venv/bin/python -m benchmarks.search.run \
        --database-url postgresql://postgres@127.0.0.1:56310/vobemusic \
        --search-database-url postgresql+psycopg://postgres@127.0.0.1:56310/search

Prints p50/p99 latency per query class (1, 2, 3 words; suggest) for both systems with the ratio,
throughput with concurrent clients, and commit -> searchable latency through the real CDC path
(Postgres WAL -> Debezium -> Tansu -> the service's feed -> index). The goals (issue 6): query p99
under 20 ms and at least 50x faster than legacy; commit -> searchable p99 under 1.5 s. The legacy
search takes seconds per query at this size, so it gets fewer samples (its p99 is then close to
its maximum); the search service gets many.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parents[1] / "legacy_monolith")]

import psycopg  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmarks.search.measure import Client, Latencies, latencies, throughput  # noqa: E402
from benchmarks.search.processes import (ROOT, connector_without_snapshot, free_port, start_monolith,  # noqa: E402
                                         start_search)
from benchmarks.search.query_sets import query_sets  # noqa: E402

console = Console()
PATHS = {"suggest": ("/api/v1/search/suggest/", {})}
TRACKS = ("/api/v1/search/tracks/", {})


def endpoint(kind: str):
    return PATHS.get(kind, TRACKS)


def ensure_index(args, env: dict) -> None:
    if (Path(args.index_dir) / "CURRENT").exists() and not args.rebuild:
        return
    console.print("building the search index from a snapshot of the monolith (one-off)...")
    started = time.monotonic()
    import subprocess

    subprocess.run([sys.executable, "-m", "services.search.rebuild", "--from", "snapshot", "--no-progress"],
                   env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, check=True)
    console.print(f"  index built in {time.monotonic() - started:.0f} s")


def query_benchmark(args, legacy: str, search: str) -> None:
    sets = query_sets(args.database_url, args.queries)
    table = Table(title=f"Search latency, sequential requests ({args.queries} search / {args.legacy_queries} legacy queries per class)")
    for column in ("query class", "legacy p50 ms", "legacy p99 ms", "search p50 ms", "search p99 ms",
                   "p50 ratio", "p99 ratio"):
        table.add_column(column, justify="right")
    for kind, queries in sets.items():
        path, extra = endpoint(kind)
        latencies(search, path, "q", queries[:20], extra)  # warm caches of both systems alike
        fast = latencies(search, path, "q", queries, extra)
        slow: Latencies = latencies(legacy, path, "q", queries[: args.legacy_queries], extra)
        table.add_row(kind, f"{slow.p50:.1f}", f"{slow.p99:.1f}", f"{fast.p50:.2f}", f"{fast.p99:.2f}",
                      f"{slow.p50 / fast.p50:.0f}x", f"{slow.p99 / fast.p99:.0f}x")
    console.print(table)

    table = Table(title=f"Throughput, {args.concurrency} concurrent clients")
    for column in ("query class", "legacy req/s", "search req/s", "ratio"):
        table.add_column(column, justify="right")
    for kind in ("2 words", "suggest"):
        path, _ = endpoint(kind)
        fast = throughput(search, path, "q", sets[kind], args.concurrency, args.seconds)
        slow = throughput(legacy, path, "q", sets[kind], args.concurrency, args.legacy_seconds)
        table.add_row(kind, f"{slow:.1f}", f"{fast:.0f}", f"{fast / slow:.0f}x")
    console.print(table)


def freshness_benchmark(args, env: dict, log_dir: Path) -> None:
    """Insert tracks one commit at a time into the monolith's database and time until each is
    returned by the search endpoint (polled every 5 ms)."""
    from cdc.broker import EmbeddedBroker
    from cdc.source_setup import drop_publication, drop_slot
    from cdc.testing import RelayProcess

    broker = EmbeddedBroker(free_port(), log_file=log_dir / "tansu.log")
    broker.start()
    slot = f"search_bench_{uuid.uuid4().hex[:6]}"
    relay = RelayProcess(source_url=args.database_url, bootstrap=broker.bootstrap, port=free_port(), slot=slot,
                         publication=slot, log_file=log_dir / "relay.log",
                         connector_file=connector_without_snapshot(log_dir / "connector.json"))
    service = None
    try:
        relay.start()
        relay.wait_ready(300)
        service, base = start_search({**env, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "SEARCH_CONSUME_CDC": "true",
                                      "SEARCH_CONSUMER_GROUP": f"search-bench-{uuid.uuid4().hex[:6]}"},
                                     log_dir, name="search-cdc")
        client = Client(base)
        samples = []
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            try:
                # The first changes also wait for the consumer group to join: three warm-up commits,
                # neither sampled nor in the breakdown.
                measure_commits(conn, client, 3, [], log_dir)
                before = _metric_totals(client.get("/metrics", {})[1].decode())
                measure_commits(conn, client, args.commits, samples, log_dir)
            finally:
                conn.execute("DELETE FROM catalog_track WHERE title LIKE 'fresh%%'")  # leave the dataset as found
        result = Latencies(samples)
        console.print(f"[bold]commit -> searchable[/] over {len(samples)} commits: p50 {result.p50:.0f} ms, "
                      f"p99 {result.p99:.0f} ms, max {max(samples):.0f} ms (goal: p99 < 1500 ms)")
        console.print(breakdown(before, _metric_totals(client.get("/metrics", {})[1].decode())))
    finally:
        if service is not None:
            service.stop()
        relay.stop()
        broker.stop()
        drop_slot(args.database_url, slot)
        drop_publication(args.database_url, slot)


def measure_commits(conn, client: Client, commits: int, samples: list[float], log_dir: Path) -> None:
    artist_id = conn.execute("SELECT min(id) FROM catalog_artist").fetchone()[0]
    for _ in range(commits):
        word = f"fresh{uuid.uuid4().hex[:10]}"
        conn.execute(
            "INSERT INTO catalog_track (title, artist_id, duration_ms, popularity, price, file_path, "
            "created_at, updated_at) VALUES (%s, %s, 200000, 1, 0.99, '', now(), now())", (word, artist_id))
        committed = time.perf_counter()
        deadline = committed + 60
        while b'"count":1' not in client.get("/api/v1/search/tracks/", {"q": word})[1]:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{word} not searchable after 60 s; see {log_dir}")
            time.sleep(0.005)
        samples.append((time.perf_counter() - committed) * 1000)
        time.sleep(0.2)


def _metric_totals(text: str) -> dict[str, list[float]]:
    """Histogram name -> [sum, count] over all label sets."""
    totals: dict[str, list[float]] = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        base = name.split("{", 1)[0]
        for suffix, slot in (("_sum", 0), ("_count", 1)):
            if base.endswith(suffix):
                totals.setdefault(base[:-len(suffix)], [0.0, 0.0])[slot] += float(value)
    return totals


def breakdown(before: dict[str, list[float]], after: dict[str, list[float]]) -> str:
    """Where the time goes, from the service's own metrics: means over the measured commits."""
    means = {}
    for name, (total, count) in after.items():
        total_before, count_before = before.get(name, [0.0, 0.0])
        if count > count_before:
            means[name] = (total - total_before) / (count - count_before)
    parts = [("source commit -> batch applied", "cdc_consumer_commit_to_apply_seconds"),
             ("one consumer batch (replica + index)", "cdc_consumer_batch_seconds"),
             ("one index write", "search_index_write_seconds")]
    return "  breakdown (means): " + ", ".join(
        f"{label} {means[name] * 1000:.0f} ms" for label, name in parts if name in means)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("MONOLITH_DATABASE_URL",
                                                                 "postgresql://postgres@127.0.0.1:55432/vobemusic"))
    parser.add_argument("--search-database-url", default=os.environ.get(
        "SEARCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/search"))
    parser.add_argument("--index-dir", default=str(ROOT / ".stack" / "search-bench" / "index"))
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index even if one exists")
    parser.add_argument("--queries", type=int, default=300, help="queries per class for the search service")
    parser.add_argument("--legacy-queries", type=int, default=15, help="queries per class for the legacy search")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--legacy-seconds", type=float, default=30)
    parser.add_argument("--commits", type=int, default=40)
    parser.add_argument("--skip-freshness", action="store_true")
    parser.add_argument("--only-freshness", action="store_true")
    args = parser.parse_args()

    with psycopg.connect(args.database_url) as conn:
        tracks = conn.execute("SELECT count(*) FROM catalog_track").fetchone()[0]
    console.print(f"catalogue: {tracks:,} tracks ({args.database_url})")
    env = {"SEARCH_DATABASE_URL": args.search_database_url, "SEARCH_INDEX_DIR": args.index_dir,
           "MONOLITH_DATABASE_URL": args.database_url}
    ensure_index(args, env)
    log_dir = Path(tempfile.mkdtemp(prefix="search-bench-"))
    if not args.only_freshness:
        monolith, legacy = start_monolith(args.database_url, log_dir)
        search, base = start_search({**env, "SEARCH_CONSUME_CDC": "false"}, log_dir)
        try:
            query_benchmark(args, legacy, base)
        finally:
            search.stop()
            monolith.stop()
    if not args.skip_freshness:
        freshness_benchmark(args, env, log_dir)
    console.print(f"logs: {log_dir}")


if __name__ == "__main__":
    main()
