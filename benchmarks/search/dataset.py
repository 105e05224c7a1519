"""The search benchmark's own Postgres cluster with the 1M-track demo catalogue (kept between runs
under .stack/search-bench, port 56310): the monolith database `vobemusic` and the service's
replica database `search`.

    .venv/bin/python -m benchmarks.search.dataset [--tracks 1000000]   # prints the two URLs
"""
from __future__ import annotations

import argparse

import psycopg

from stack.postgres_cluster import PostgresCluster
from tests.parity import processes

ROOT = processes.ROOT
HOME = ROOT / ".stack" / "search-bench"
PORT = 56310


def cluster(port: int = PORT) -> PostgresCluster:
    return PostgresCluster(HOME / "data", port, HOME / "run", HOME / "postgres.log")


def running_cluster(port: int = PORT) -> PostgresCluster:
    pg = cluster(port)
    pg.initialise()
    try:
        pg.wait_ready(timeout=1)
    except psycopg.OperationalError:
        pg.start()
        pg.wait_ready()
    return pg


def prepare(tracks: int, port: int = PORT) -> tuple[str, str]:
    pg = running_cluster(port)
    pg.ensure_database("vobemusic")
    pg.ensure_database("search")
    monolith = pg.url("vobemusic")
    processes.prepare_monolith(monolith, tracks)  # skipped when the catalogue is there
    with psycopg.connect(monolith, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return monolith, pg.url("search", "postgresql+psycopg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--stop", action="store_true", help="stop the cluster and exit")
    args = parser.parse_args()
    if args.stop:
        cluster(args.port).stop()
        return
    monolith, search = prepare(args.tracks, args.port)
    print(f"--database-url {monolith} --search-database-url {search}")


if __name__ == "__main__":
    main()
