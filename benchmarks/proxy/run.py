"""Proxy benchmark: our proxy (legacy and shadow mode) next to nginx as a plain reverse proxy,
both in front of the same upstream (1 KB JSON on uvicorn), all on this machine.

    .venv/bin/python benchmarks/proxy/run.py [--seconds 10] [--rate 1000]

Two measurements per target (direct, nginx, proxy-legacy, proxy-shadow, proxy-shadow-10% which
mirrors a 10% sample):
  * fixed rate (open loop, default 1,000 req/s): latency measured from each request's *scheduled*
    send time, so a stall is charged to every request that waited (no coordinated omission);
    reported as added p50/p99 over the direct call;
  * max throughput: wrk, 2 threads, 16 connections: requests/s and wrk's p50/p99.
Needs the Debian packages nginx-light (or nginx) and wrk. Every port is ephemeral; every process it
starts is stopped at the end."""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable

UPSTREAM = '''
import json, os, socket, uvicorn
BODY = json.dumps({"count": 12, "next": None, "previous": None, "results": [
    {"id": i, "title": "Track %d" % i, "duration": 200 + i, "price": "1.99"} for i in range(12)]}).encode()
BODY = BODY[:1024] if len(BODY) >= 1024 else BODY + b" " * (1024 - len(BODY))
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
sock = socket.socket(); sock.bind(("127.0.0.1", 0))
open(os.environ["PORT_FILE"] + ".tmp", "w").write(str(sock.getsockname()[1]))
os.replace(os.environ["PORT_FILE"] + ".tmp", os.environ["PORT_FILE"])
uvicorn.Server(uvicorn.Config(app, loop="uvloop", http="httptools", log_level="warning", access_log=False)).run(sockets=[sock])
'''

NGINX_CONF = """
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
        }}
    }}
}}
"""

ROUTES = """
version: 1
legacy: legacy
upstreams:
  legacy: {{url: "http://127.0.0.1:{legacy}"}}
  candidate: {{url: "http://127.0.0.1:{candidate}"}}
routes:
  - name: default
    path: ^/
    mode: {mode}
    target: candidate
    shadow: {{sample: {sample}}}
"""
# proxy variants: name -> (route mode, shadow sample rate)
PROXIES = {"proxy-legacy": ("legacy", 1.0), "proxy-shadow": ("shadow", 1.0), "proxy-shadow-10%": ("shadow", 0.1)}
TOKEN = "bench-admin-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port_file(path: Path, process: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early: {process.args}")
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.05)
    raise RuntimeError(f"no port file {path}")


def wait_http(url: str, timeout: float = 60) -> None:
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


async def fixed_rate(url: str, rate: float, seconds: float, warmup: float = 2.0) -> dict:
    """Open-loop load at `rate` req/s; latency from the scheduled send time."""
    connector = aiohttp.TCPConnector(limit=256)
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(scheduled: float, record: bool):
            nonlocal errors
            try:
                async with session.get(url) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            if record:
                if ok:
                    latencies.append(time.perf_counter() - scheduled)
                else:
                    errors += 1

        tasks = []
        start = time.perf_counter()
        total = int((warmup + seconds) * rate)
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled, i >= warmup * rate)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {"sent_rate": total / elapsed, "p50": pct(50), "p99": pct(99), "errors": errors, "n": len(latencies)}


def shadow_figures(url: str) -> str:
    """What the shadow worker did during the fixed-rate run (so a low latency cannot hide drops)."""
    import urllib.request
    base = url.split("/api/")[0]
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        page = response.read().decode()
    totals: dict[str, float] = {}
    for line in page.splitlines():
        match = re.match(r'proxy_shadow_(results|dropped)_total\{(?:reason|result)="(\w+)".*\} ([\d.e+]+)', line)
        if match:
            totals[f"{match.group(1)}:{match.group(2)}"] = float(match.group(3))
    compared = sum(v for k, v in totals.items() if k.startswith("results:"))
    dropped = {k.split(":")[1]: int(v) for k, v in totals.items() if k.startswith("dropped:")}
    return f"compared {int(compared)} (match {int(totals.get('results:match', 0))}), not mirrored {dropped or 0}"


def family(pid: int) -> list[int]:
    """The proxy's serving process and its children (the shadow worker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *map(int, children)]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, seconds: int) -> dict:
    output = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url],
                            capture_output=True, text=True, check=True).stdout

    def ms(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "requests": requests, "p50": ms(50), "p99": ms(99), "non2xx": int(errors.group(1)) if errors else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1000)
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} is not installed (apt-get install nginx-light wrk)")
    import uvloop
    work = Path(tempfile.mkdtemp(prefix="proxy-bench-"))
    processes: list[subprocess.Popen] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        ports = {}
        for name in ("upstream", "candidate"):
            port_file = work / f"{name}.port"
            process = subprocess.Popen([PY, "-c", UPSTREAM], env={**env, "PORT_FILE": str(port_file)})
            processes.append(process)
            ports[name] = wait_port_file(port_file, process)
        nginx_port = free_port()
        (work / "nginx.conf").write_text(NGINX_CONF.format(dir=work, upstream=ports["upstream"], port=nginx_port))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        processes.append(subprocess.Popen([nginx, "-c", str(work / "nginx.conf"), "-p", str(work), "-g", "daemon off;"]))
        targets = {
            "direct": f"http://127.0.0.1:{ports['upstream']}/api/v1/tracks/",
            "nginx": f"http://127.0.0.1:{nginx_port}/api/v1/tracks/",
        }
        proxies: dict[str, int] = {}
        for name, (mode, sample) in PROXIES.items():
            slug = name.replace("%", "")
            routes = work / f"routes-{slug}.yaml"
            routes.write_text(ROUTES.format(legacy=ports["upstream"], candidate=ports["candidate"], mode=mode,
                                            sample=sample))
            port_file = work / f"{slug}.port"
            process = subprocess.Popen([PY, "-m", "proxy"], cwd=ROOT, env={
                **env, "PROXY_PORT": "0", "PROXY_PORT_FILE": str(port_file), "PROXY_ROUTES_FILE": str(routes),
                "PROXY_DATA_DIR": str(work / f"data-{slug}"), "PROXY_ACCESS_LOG": "false",
                "PROXY_LOG_LEVEL": "warning", "PROXY_ADMIN_TOKEN": TOKEN}, stdout=subprocess.DEVNULL)
            processes.append(process)
            proxies[name] = process.pid
            targets[name] = f"http://127.0.0.1:{wait_port_file(port_file, process)}/api/v1/tracks/"
        for url in targets.values():
            wait_http(url)
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"(other processes share these cores); upstream 1 KB JSON on uvicorn; {args.seconds:g} s per run\n")
        print(f"fixed rate {args.rate:g} req/s (open loop, latency from scheduled send time)")
        fixed = {}
        shadow_work = {}
        for name, url in targets.items():
            fixed[name] = uvloop.run(fixed_rate(url, args.rate, args.seconds))
            if name.startswith("proxy-shadow"):
                shadow_work[name] = shadow_figures(url)
        base = fixed["direct"]
        print(f"{'target':<16} {'rate':>7} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} {'+p99 ms':>8} {'errors':>6}")
        for name, r in fixed.items():
            print(f"{name:<16} {r['sent_rate']:>7.0f} {r['p50']:>8.3f} {r['p99']:>8.3f} "
                  f"{r['p50'] - base['p50']:>8.3f} {r['p99'] - base['p99']:>8.3f} {r['errors']:>6}")
        for name, figures in shadow_work.items():
            print(f"{name}: {figures}")
        print("\nmax throughput (wrk -t2 -c16)")
        peak, cpu = {}, {}
        for name, url in targets.items():
            before = {pid: cpu_seconds(pid) for pid in family(proxies[name])} if name in proxies else {}
            peak[name] = wrk(url, int(args.seconds))
            if before:
                cpu[name] = [(cpu_seconds(pid) - seconds) / peak[name]["requests"] * 1e6
                             for pid, seconds in before.items()]
        print(f"{'target':<16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs nginx':>9} {'non-2xx':>8}")
        for name, r in peak.items():
            print(f"{name:<16} {r['rps']:>9.0f} {r['p50']:>8.3f} {r['p99']:>8.3f} "
                  f"{r['rps'] / peak['nginx']['rps']:>8.2f}x {r['non2xx']:>8}")
        print("\nCPU per request under wrk (us): serving process / shadow worker")
        for name, (serving, *shadow) in cpu.items():
            print(f"{name:<16} {serving:>7.0f} / {shadow[0] if shadow else 0:>5.0f}")
        n = fixed["nginx"]
        print()
        for name in PROXIES:
            r = fixed[name]
            print(f"{name}: added p50 {r['p50'] - base['p50']:.3f} ms (nginx {n['p50'] - base['p50']:.3f}), "
                  f"added p99 {r['p99'] - base['p99']:.3f} ms (nginx {n['p99'] - base['p99']:.3f}) at {args.rate:g} req/s; "
                  f"throughput {peak[name]['rps'] / peak['nginx']['rps']:.2f}x nginx")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
