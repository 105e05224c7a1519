"""Catalog service vs the monolith, side by side in one run, on the demo dataset (1M tracks by default):
requests/s and p50/p99 latency from wrk for

- track list with filters   /api/v1/tracks/?genre=<g>&popularity_min=50&ordering=-popularity
- track detail              /api/v1/tracks/<random id>/
- artist albums             /api/v1/artists/<random id>/albums/

Both sides get the same database cluster, data, machine and wrk settings, and are measured one
right after the other for each request (both servers up, the idle one uses no CPU). Worker counts (printed
with the figures) are each side's best on this 2-core machine, measured with --sweep 1,2,3,4
(docs/catalog.md has the sweeps): the monolith as its Dockerfile runs it, gunicorn gthread with
4 workers x 4 threads (3 and 4 workers were within noise of each other and ahead of 1 and 2), the
service as uvicorn with 2 workers (one per core; 3 and 4 were slower). Neither side logs each request.

    .venv/bin/python -m benchmarks.catalog.bench [--tracks 1000000] [--duration 15] [--connections 16]
                                                 [--monolith-workers 4] [--monolith-threads 4]
                                                 [--catalog-workers 2] [--sweep 1,2,3,4]

--sweep N,M,...: instead of the comparison, measure each side with each worker count (shorter runs,
--sweep-duration) and print the table the defaults were chosen from.

The cluster lives under .stack/catalog-bench (port 56250) and is kept between runs (the data load is
the slow part); --fresh reloads it, --stop-cluster stops it at the end."""
from __future__ import annotations

import argparse
import math
import re
import subprocess
import tempfile
from pathlib import Path

import psycopg

from services.catalog.domain import DOMAIN
from services.common.carve.snapshot import copy_snapshot
from stack.postgres_cluster import PostgresCluster
from tests.parity import processes

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / ".stack" / "catalog-bench"

DETAIL_LUA = """
math.randomseed(%(seed)d)
request = function()
  return wrk.format("GET", string.format("%(path)s", math.random(1, %(max_id)d)))
end
"""


def cluster(port: int) -> PostgresCluster:
    return PostgresCluster(HOME / "data", port, HOME / "run", HOME / "postgres.log")


def load(pg: PostgresCluster, tracks: int, fresh: bool) -> tuple[str, str]:
    monolith_db = processes.ensure_database(pg.port, "bench_monolith", fresh=fresh)
    catalog_db = processes.ensure_database(pg.port, "bench_catalog", fresh=fresh)
    with psycopg.connect(monolith_db) as conn:
        have = conn.execute("SELECT to_regclass('catalog_track') IS NOT NULL").fetchone()[0] and \
            conn.execute("SELECT count(*) FROM catalog_track").fetchone()[0]
    if have != tracks:
        processes.ensure_database(pg.port, "bench_monolith", fresh=True)
        print(f"loading {tracks} tracks into the monolith database...", flush=True)
        processes.prepare_monolith(monolith_db, tracks)
    processes.prepare_catalog(catalog_db)
    with psycopg.connect(catalog_db) as conn:
        copied = conn.execute("SELECT count(*) FROM catalog_track").fetchone()[0]
    if copied != tracks:
        print("copying the catalogue into the service database...", flush=True)
        copy_snapshot(DOMAIN, monolith_db, catalog_db)
    for url in (monolith_db, catalog_db):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return monolith_db, catalog_db


def wrk(url: str, duration: int, connections: int, script: str | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-H", "Host: localhost"]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)

    def pct(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "errors": int(non2xx.group(1)) if non2xx else 0}


def report(args, results: dict, names: list[str]) -> None:
    print(f"\ncatalog benchmark: {args.tracks} tracks, wrk -t2 -c{args.connections} -d{args.duration}s, same machine and "
          f"cluster; monolith: gunicorn {args.monolith_workers} workers x {args.monolith_threads} threads (gthread); "
          f"service: uvicorn {args.catalog_workers} workers")
    print(f"{'scenario':26} {'side':9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name in names:
        for side in ("monolith", "catalog"):
            r = results[(side, name)]
            print(f"{name:26} {side:9} {r['rps']:9.1f} {r['p50']:8.2f} {r['p99']:8.2f} {r['errors']:8d}")
        m, c = results[("monolith", name)], results[("catalog", name)]
        print(f"{'':26} {'ratio':9} {c['rps'] / m['rps']:8.2f}x  p99 {c['p99']:.2f} vs {m['p99']:.2f} ms "
              f"({'lower' if c['p99'] < m['p99'] else 'NOT lower'})")


def sweep(measure, counts: list[int], duration: int, names: list[str]) -> None:
    """Each side with each worker count; the best count of a side is the one with the highest
    geometric mean of its requests/s over the scenarios."""
    print(f"\nworker sweep: wrk {duration}s per scenario; req/s (p99 ms)")
    print(f"{'side':9} {'workers':>7}  " + "  ".join(f"{name:>24}" for name in names) + f"  {'geomean':>8}")
    for side in ("monolith", "catalog"):
        best = None
        for workers in counts:
            found = measure(side, workers, duration)
            geomean = math.prod(found[n]["rps"] for n in names) ** (1 / len(names))
            cells = "  ".join(f"{found[n]['rps']:>13.1f} ({found[n]['p99']:7.1f})" for n in names)
            print(f"{side:9} {workers:>7}  {cells}  {geomean:8.1f}", flush=True)
            if best is None or geomean > best[1]:
                best = (workers, geomean)
        print(f"{side}: best with {best[0]} workers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--monolith-workers", type=int, default=4, help="gunicorn (gthread) workers of the monolith")
    parser.add_argument("--monolith-threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--catalog-workers", type=int, default=2, help="uvicorn workers of the service")
    parser.add_argument("--sweep", help="comma-separated worker counts: measure both sides with each instead")
    parser.add_argument("--sweep-duration", type=int, default=8)
    parser.add_argument("--port", type=int, default=56250)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--stop-cluster", action="store_true")
    args = parser.parse_args()

    pg = cluster(args.port)
    pg.initialise()
    try:
        pg.wait_ready(timeout=1)
    except Exception:
        pg.start()
        pg.wait_ready()
    logs = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    monolith_db, catalog_db = load(pg, args.tracks, args.fresh)
    with psycopg.connect(monolith_db) as conn:
        max_track = conn.execute("SELECT max(id) FROM catalog_track").fetchone()[0]
        max_artist = conn.execute("SELECT max(id) FROM catalog_artist").fetchone()[0]
        genre = conn.execute("SELECT genre_id FROM catalog_track GROUP BY genre_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]

    scripts = {}
    for name, path, max_id in (("detail", "/api/v1/tracks/%d/", max_track),
                               ("albums", "/api/v1/artists/%d/albums/", max_artist)):
        script = logs / f"{name}.lua"
        script.write_text(DETAIL_LUA % {"seed": 7, "path": path, "max_id": max_id})
        scripts[name] = str(script)
    scenarios = [
        ("track list with filters", f"/api/v1/tracks/?genre={genre}&popularity_min=50&ordering=-popularity", None),
        ("track detail", "/", scripts["detail"]),
        ("artist albums", "/", scripts["albums"]),
    ]

    def measure(side: str, workers: int, duration: int) -> dict:
        server = (processes.start_monolith(monolith_db, logs, workers=workers, threads=args.monolith_threads)
                  if side == "monolith" else processes.start_catalog(catalog_db, logs, workers=workers))
        try:
            found = {}
            for name, path, script in scenarios:
                wrk(server.url + path, 3, args.connections, script)            # warm-up (caches, pools)
                found[name] = wrk(server.url + path, duration, args.connections, script)
            return found
        finally:
            server.stop()

    if args.sweep:
        sweep(measure, [int(n) for n in args.sweep.split(",")], args.sweep_duration, [name for name, _, _ in scenarios])
    else:
        # Both sides up at once (an idle side uses no CPU) and measured scenario by scenario, one
        # right after the other: a change in the machine's load during the run then hits both
        # sides of a comparison alike, instead of only the side measured second.
        servers = {}
        try:
            servers["monolith"] = processes.start_monolith(monolith_db, logs, workers=args.monolith_workers,
                                                           threads=args.monolith_threads)
            servers["catalog"] = processes.start_catalog(catalog_db, logs, workers=args.catalog_workers)
            results = {}
            for name, path, script in scenarios:
                for side, server in servers.items():
                    wrk(server.url + path, 3, args.connections, script)            # warm-up (caches, pools)
                    results[(side, name)] = wrk(server.url + path, args.duration, args.connections, script)
        finally:
            for server in servers.values():
                server.stop()
        report(args, results, [name for name, _, _ in scenarios])
    if args.stop_cluster:
        pg.stop()


if __name__ == "__main__":
    main()
