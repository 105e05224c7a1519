"""Monolith baseline benchmark: requests/s and p50/p99 latency of key read endpoints.

Starts the monolith under gunicorn with production settings (DEBUG off, several sync workers)
against an existing database, or measures any running deployment given with ``--target`` (the
same script later measures a service or the proxy for comparison). Load comes from wrk.

    # 1M-track dataset first:  manage.py generate_demo_data --reset --tracks 1000000
    .venv/bin/python benchmarks/monolith/run.py \\
        --database-url postgresql://postgres@127.0.0.1:56010/vobemusic --duration 15
    .venv/bin/python benchmarks/monolith/run.py --target http://127.0.0.1:8000   # anything running

Prints one table row per endpoint; ``--json FILE`` also writes the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MONOLITH = ROOT / "legacy_monolith"
sys.path.insert(0, str(ROOT))

from stack.readiness import free_port  # noqa: E402

# name -> path; {post_id} is filled in from the API (the first published post).
ENDPOINTS = {
    "track list, filtered": "/api/v1/tracks/?genre=3&duration_min=180000&popularity_min=20&ordering=-popularity",
    "track list, year range": "/api/v1/tracks/?year_min=2015&year_max=2020&ordering=-created_at",
    "track detail": "/api/v1/tracks/12345/",
    "popular tracks": "/api/v1/tracks/popular/",
    "post detail + comments": "/api/v1/posts/{post_id}/",
    "legacy search, tracks": "/api/v1/search/tracks/?q=midnight",
    "legacy search, mixed": "/api/v1/search/?q=velvet",
}


@dataclass
class Result:
    endpoint: str
    path: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start_gunicorn(database_url: str, workers: int, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vobemusic.settings.production",
        "DJANGO_DEBUG": "false",
        # production.py refuses the dev defaults; these are throwaway benchmark secrets.
        "DJANGO_SECRET_KEY": "benchmark-secret-key-not-for-real-use-0123456789",
        "JWT_SIGNING_KEY": "benchmark-jwt-key-not-for-real-use-0123456789",
        "MONOLITH_DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable, "-m", "gunicorn", "vobemusic.wsgi:application", "--chdir", str(MONOLITH),
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning",
        "--timeout", "120",
    ]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if get(f"http://127.0.0.1:{port}/readyz", timeout=2)[0] == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        time.sleep(0.3)
    stop(process)
    raise SystemExit("gunicorn did not become ready")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def resolve_paths(target: str) -> dict[str, str]:
    """Fill in ids that depend on the data; endpoints whose data is missing are skipped (and said so)."""
    paths = {}
    status, body = get(f"{target}/api/v1/posts/?page_size=1&ordering=id")
    post_id = None
    if status == 200 and json.loads(body).get("results"):
        post_id = json.loads(body)["results"][0]["id"]
    for name, path in ENDPOINTS.items():
        if "{post_id}" in path:
            if post_id is None:
                print(f"skipped {name!r}: no published posts in this database", file=sys.stderr)
                continue
            path = path.format(post_id=post_id)
        status, _ = get(target + path)
        if status != 200:
            print(f"skipped {name!r}: {path} answered {status}", file=sys.stderr)
            continue
        paths[name] = path
    return paths


LATENCY_LINE = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, duration: int, connections: int, threads: int, timeout: int) -> tuple[float, float, float, int, int]:
    output = subprocess.run(
        ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
         "--timeout", f"{timeout}s", url],
        check=True, capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latencies = {pct: float(value) * UNIT_MS[unit] for pct, value, unit in LATENCY_LINE.findall(output)}
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    return rps, latencies.get("50", float("nan")), latencies.get("99", float("nan")), requests, errors


def print_table(results: list[Result], header: str) -> None:
    print(header)
    print(f"{'endpoint':<26} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'requests':>9} {'errors':>7}")
    for r in results:
        print(f"{r.endpoint:<26} {r.requests_per_s:>9.1f} {r.p50_ms:>9.1f} {r.p99_ms:>9.1f} {r.requests:>9} {r.errors:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", help="base URL of a running deployment; omit to start gunicorn here")
    parser.add_argument("--database-url", default=os.environ.get("MONOLITH_DATABASE_URL"),
                        help="database for the gunicorn this script starts (default $MONOLITH_DATABASE_URL)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint (default 15)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=60,
                        help="wrk request timeout in seconds (default 60: the legacy search takes seconds)")
    parser.add_argument("--only", action="append", help="endpoint names to run (repeatable; default all)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")

    process = None
    target = args.target
    if target is None:
        if not args.database_url:
            raise SystemExit("give --target, or --database-url / MONOLITH_DATABASE_URL to start gunicorn")
        port = free_port()
        process = start_gunicorn(args.database_url, args.workers, port)
        target = f"http://127.0.0.1:{port}"
    target = target.rstrip("/")
    try:
        paths = resolve_paths(target)
        if args.only:
            paths = {name: path for name, path in paths.items() if name in args.only}
        results = []
        for name, path in paths.items():
            get(target + path)  # warm caches and connections
            rps, p50, p99, requests, errors = run_wrk(
                target + path, args.duration, args.connections, args.threads, args.timeout)
            results.append(Result(name, path, rps, p50, p99, requests, errors))
            print(f"  {name}: {rps:.1f} req/s", file=sys.stderr)
    finally:
        if process is not None:
            stop(process)
    workers = f"gunicorn {args.workers} sync workers, " if process else ""
    print_table(results, f"\n{target} ({workers}wrk -t{args.threads} -c{args.connections} -d{args.duration}s)")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
