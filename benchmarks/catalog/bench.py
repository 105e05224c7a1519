"""Catalog service vs the monolith, side by side in one run, on the demo dataset (1M tracks by default):
requests/s and p50/p99 latency from wrk for

- track list with filters   /api/v1/tracks/?genre=<g>&popularity_min=50&ordering=-popularity
- track detail              /api/v1/tracks/<random id>/
- artist albums             /api/v1/artists/<random id>/albums/

Both sides get the same database cluster, data, machine and wrk settings; the monolith runs as the stack
runs it (gunicorn gthread, 3 workers x 4 threads), the service as uvicorn with 2 workers.

    .venv/bin/python -m benchmarks.catalog.bench [--tracks 1000000] [--duration 15] [--connections 16]
                                                 [--catalog-workers 2]

The cluster lives under .stack/catalog-bench (port 56250) and is kept between runs (the data load is
the slow part); --fresh reloads it, --stop-cluster stops it at the end."""
from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from pathlib import Path

import psycopg

from services.catalog.sync.snapshot import copy_snapshot
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
        copy_snapshot(monolith_db, catalog_db)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--catalog-workers", type=int, default=2, help="uvicorn workers of the service")
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

    results = {}
    for side in ("monolith", "catalog"):
        server = (processes.start_monolith(monolith_db, logs, workers=3, threads=4) if side == "monolith"
                  else processes.start_catalog(catalog_db, logs, workers=args.catalog_workers))
        try:
            for name, path, script in scenarios:
                wrk(server.url + path, 3, args.connections, script)            # warm-up (caches, pools)
                results[(side, name)] = wrk(server.url + path, args.duration, args.connections, script)
        finally:
            server.stop()

    print(f"\ncatalog benchmark: {args.tracks} tracks, wrk -t2 -c{args.connections} -d{args.duration}s, same machine and "
          f"cluster; service: {args.catalog_workers} uvicorn workers")
    print(f"{'scenario':26} {'side':9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, _, _ in scenarios:
        for side in ("monolith", "catalog"):
            r = results[(side, name)]
            print(f"{name:26} {side:9} {r['rps']:9.1f} {r['p50']:8.2f} {r['p99']:8.2f} {r['errors']:8d}")
        m, c = results[("monolith", name)], results[("catalog", name)]
        print(f"{'':26} {'ratio':9} {c['rps'] / m['rps']:8.2f}x  p99 {c['p99']:.2f} vs {m['p99']:.2f} ms "
              f"({'lower' if c['p99'] < m['p99'] else 'NOT lower'})")
    if args.stop_cluster:
        pg.stop()


if __name__ == "__main__":
    main()
