"""Proxy benchmark: our proxy (legacy and shadow mode) next to nginx as a plain reverse proxy,
both in front of the same upstream (1 KB JSON on uvicorn), all on this machine.

    .venv/bin/python benchmarks/proxy/run.py [--seconds 10] [--rate 1000] [--workers N] [--rounds 4]

The proxy runs PROXY_WORKERS=N serving processes (default: the CPU count) and nginx gets the same
worker_processes. Two measurements per target (direct, nginx, proxy-legacy, proxy-shadow,
proxy-shadow-10% which mirrors a 10% sample, proxy-shadow-offhost):
  * fixed rate (open loop, default 1,000 req/s, benchmarks/proxy/open_loop.py): latency measured from each request's *scheduled*
    send time, so a stall is charged to every request that waited (no coordinated omission);
    reported as added p50/p99 over the direct call. The targets take turns in `--rounds` rounds
    (each round `seconds / rounds` per target), so a burst of load from elsewhere on the machine
    lands on several targets instead of on whichever ran at that moment; the worst single round's
    p99 is printed next to the pooled one, and every round's p99 below the table. For the proxies it also prints what their serving
    processes saw meanwhile: event-loop wake-ups late by 5 ms or more, and the longest GC pause;
  * max throughput: wrk, 2 threads, 16 connections: requests/s and wrk's p50/p99.
Both print the CPU per request of what stands in front of the upstream (nginx's workers, the
proxy's serving processes and shadow worker), from the scheduler's runtime of every thread, and at
the fixed rate how often those processes were woken per request.
proxy-shadow-offhost mirrors everything, like proxy-shadow, to a second candidate process that runs
under SCHED_IDLE: it stands in for a candidate on its own host (in production the new service does
not share the proxy's cores), so its added latency is what shadow mode itself costs the client; the
difference to proxy-shadow is what a candidate on the same two cores costs.
Needs the Debian packages nginx-light (or nginx) and wrk. Every port is ephemeral; every process it
starts is stopped at the end."""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
sys.path.insert(0, str(ROOT))

from benchmarks.proxy.open_loop import fixed_rate  # noqa: E402
from stack.readiness import free_port, wait_http  # noqa: E402

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
worker_processes {workers};
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


class Variant(NamedTuple):
    mode: str              # the route's mode
    sample: float          # shadow sample rate
    candidate: str         # which candidate upstream the route targets


PROXIES = {"proxy-legacy": Variant("legacy", 1.0, "candidate"), "proxy-shadow": Variant("shadow", 1.0, "candidate"),
           "proxy-shadow-10%": Variant("shadow", 0.1, "candidate"),
           "proxy-shadow-offhost": Variant("shadow", 1.0, "candidate-offhost")}
# Upstream processes: name -> runs under SCHED_IDLE (the off-host candidate: only CPU nothing
# else on this machine wants).
UPSTREAMS = {"upstream": False, "candidate": False, "candidate-offhost": True}
TOKEN = "bench-admin-token"


def idle_priority() -> None:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def wait_port_file(path: Path, process: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early: {process.args}")
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.05)
    raise RuntimeError(f"no port file {path}")


def pct(latencies: list[float], p: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def pooled(rounds: list[dict]) -> dict:
    latencies = [x for r in rounds for x in r["latencies"]]
    return {"sent_rate": sum(r["sent_rate"] for r in rounds) / len(rounds), "p50": pct(latencies, 50),
            "p99": pct(latencies, 99), "worst_round_p99": max(pct(r["latencies"], 99) for r in rounds),
            "errors": sum(r["errors"] for r in rounds), "n": len(latencies)}


def stall_figures(url: str) -> dict:
    """Cumulative loop-lag and GC histograms of the proxy's serving processes (all of them)."""
    import urllib.request
    base = url.split("/api/")[0]
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        page = response.read().decode()
    lag: dict[float, float] = {}
    gc: dict[float, float] = {}
    for line in page.splitlines():
        match = re.match(r'proxy_(event_loop_lag|gc_pause)_seconds_bucket\{(?:generation="\d",)?le="([^"]+)"\} ([\d.e+]+)',
                         line)
        if match:
            into = lag if match.group(1) == "event_loop_lag" else gc
            bound = float(match.group(2))
            into[bound] = into.get(bound, 0.0) + float(match.group(3))
    return {"lag": lag, "gc": gc}


def stall_delta(before: dict, after: dict) -> dict:
    def delta(kind):
        return {b: after[kind].get(b, 0) - before[kind].get(b, 0) for b in after[kind]}
    return {"lag": delta("lag"), "gc": delta("gc")}


def describe_stalls(deltas: list[dict]) -> str:
    lag: dict[float, float] = {}
    gc: dict[float, float] = {}
    for d in deltas:
        for b, v in d["lag"].items():
            lag[b] = lag.get(b, 0) + v
        for b, v in d["gc"].items():
            gc[b] = gc.get(b, 0) + v
    total = lag.get(float("inf"), 0)
    late = total - lag.get(0.005, 0)
    worst_lag = min((b for b, v in lag.items() if v >= total), default=0) if total else 0
    gc_total = gc.get(float("inf"), 0)
    worst_gc = min((b for b, v in gc.items() if v >= gc_total), default=0) if gc_total else 0
    return (f"loop probes {int(total)}, woke >=5 ms late {int(late)}, latest wake-up <= {worst_lag * 1000:g} ms; "
            f"GC pauses {int(gc_total)}, longest <= {worst_gc * 1000:g} ms")


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


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def family(pid: int) -> dict[str, list[int]]:
    """The proxy supervisor's children: serving processes and the shadow worker."""
    kinds: dict[str, list[int]] = {"serving": [], "shadow": []}
    for child in children(pid):
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        kinds["shadow" if b"proxy.shadow.worker" in cmdline else "serving"].append(child)
    return kinds


def front(name: str, proxies: dict[str, int], nginx_pid: int) -> dict[str, list[int]]:
    """What stands in front of the upstream for a target: serving processes (the proxy's, or
    nginx's workers) and the shadow worker; nothing for the direct call."""
    if name in proxies:
        return family(proxies[name])
    return {"serving": children(nginx_pid), "shadow": []} if name == "nginx" else {}


def cpu_groups(upstream_pids: dict[str, int], kinds: dict[str, list[int]], candidate: str) -> dict[str, list[int]]:
    """Processes whose CPU a fixed-rate run charges: the upstreams, and what stands in front of them."""
    groups = {"upstream": [upstream_pids["upstream"]], "candidate": [upstream_pids[candidate]]}
    if kinds:
        groups["serving"] = kinds["serving"]
    if kinds.get("shadow"):
        groups["shadow worker"] = kinds["shadow"]
    return groups


def per_thread(pid: int, read) -> float:
    """Sum `read(task folder)` over the threads of `pid` (threads that exit meanwhile are skipped)."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += read(task)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def cpu_seconds(pid: int) -> float:
    """The scheduler's own runtime of every thread (ns), not /proc/PID/stat's tick samples, which
    charge whole 4 ms ticks to whoever is running when one fires."""
    return per_thread(pid, lambda task: int((task / "schedstat").read_text().split()[0])) / 1e9


def wake_ups(pid: int) -> float:
    """Times the process's threads went to sleep and were woken again (voluntary context switches)."""
    return per_thread(pid, lambda task: int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)",
                                                        (task / "status").read_text(), re.M).group(1)))


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
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="proxy serving processes (PROXY_WORKERS) and nginx worker_processes")
    parser.add_argument("--rounds", type=int, default=4, help="fixed-rate rounds the targets take turns in")
    parser.add_argument("--only", nargs="*", help="proxy variants to run (default: all); direct and nginx always run")
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
        upstream_pids = {}
        for name, idle in UPSTREAMS.items():
            port_file = work / f"{name}.port"
            process = subprocess.Popen([PY, "-c", UPSTREAM], env={**env, "PORT_FILE": str(port_file)},
                                       preexec_fn=idle_priority if idle else None)
            processes.append(process)
            upstream_pids[name] = process.pid
            ports[name] = wait_port_file(port_file, process)
        nginx_port = free_port()
        (work / "nginx.conf").write_text(NGINX_CONF.format(dir=work, upstream=ports["upstream"], port=nginx_port,
                                                                 workers=args.workers))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        processes.append(subprocess.Popen([nginx, "-c", str(work / "nginx.conf"), "-p", str(work), "-g", "daemon off;"]))
        nginx_pid = processes[-1].pid
        targets = {
            "direct": f"http://127.0.0.1:{ports['upstream']}/api/v1/tracks/",
            "nginx": f"http://127.0.0.1:{nginx_port}/api/v1/tracks/",
        }
        proxies: dict[str, int] = {}
        variants = {name: v for name, v in PROXIES.items() if not args.only or name in args.only}
        for name, (mode, sample, candidate) in variants.items():
            slug = name.replace("%", "")
            routes = work / f"routes-{slug}.yaml"
            routes.write_text(ROUTES.format(legacy=ports["upstream"], candidate=ports[candidate], mode=mode,
                                            sample=sample))
            port_file = work / f"{slug}.port"
            process = subprocess.Popen([PY, "-m", "proxy"], cwd=ROOT, env={
                **env, "PROXY_PORT": "0", "PROXY_PORT_FILE": str(port_file), "PROXY_ROUTES_FILE": str(routes),
                "PROXY_DATA_DIR": str(work / f"data-{slug}"), "PROXY_ACCESS_LOG": "false",
                "PROXY_LOG_LEVEL": "warning", "PROXY_ADMIN_TOKEN": TOKEN, "PROXY_WORKERS": str(args.workers)},
                stdout=subprocess.DEVNULL)
            processes.append(process)
            proxies[name] = process.pid
            targets[name] = f"http://127.0.0.1:{wait_port_file(port_file, process)}/api/v1/tracks/"
        for url in targets.values():
            wait_http(url)
        load = os.getloadavg()
        print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
              f"(other processes share these cores); upstream 1 KB JSON on uvicorn; {args.seconds:g} s per target")
        print(f"proxy: {args.workers} serving processes (PROXY_WORKERS) + supervisor + shadow worker; "
              f"nginx: worker_processes {args.workers}\n")
        print(f"fixed rate {args.rate:g} req/s (open loop, latency from scheduled send time; "
              f"{args.rounds} interleaved rounds of {args.seconds / args.rounds:g} s per target)")
        rounds: dict[str, list[dict]] = {name: [] for name in targets}
        stalls: dict[str, list[dict]] = {name: [] for name in proxies}
        cores: dict[str, dict[str, float]] = {name: {} for name in targets}
        fronts = ["nginx", *proxies]  # what serves in front of the upstream
        wakes: dict[str, float] = {name: 0.0 for name in fronts}  # its serving processes' wake-ups
        for _ in range(args.rounds):
            for name, url in targets.items():
                before = stall_figures(url) if name in proxies else None
                groups = cpu_groups(upstream_pids, front(name, proxies, nginx_pid),
                                    PROXIES[name].candidate if name in PROXIES else "candidate")
                cpu_before = {group: sum(cpu_seconds(p) for p in pids) for group, pids in groups.items()}
                serving = groups.get("serving", [])
                wakes_before = sum(wake_ups(p) for p in serving)
                own_before, started = cpu_seconds(os.getpid()), time.perf_counter()
                rounds[name].append(uvloop.run(fixed_rate(url, args.rate, args.seconds / args.rounds)))
                wall = time.perf_counter() - started
                for group, pids in groups.items():
                    used = (sum(cpu_seconds(p) for p in pids) - cpu_before[group]) / wall
                    cores[name][group] = cores[name].get(group, 0.0) + used / args.rounds
                cores[name]["load generator"] = cores[name].get("load generator", 0.0) + (
                    cpu_seconds(os.getpid()) - own_before) / wall / args.rounds
                if name in wakes:
                    wakes[name] += sum(wake_ups(p) for p in serving) - wakes_before
                if before is not None:
                    stalls[name].append(stall_delta(before, stall_figures(url)))
        fixed = {name: pooled(r) for name, r in rounds.items()}
        shadow_work = {name: shadow_figures(url) for name, url in targets.items() if name.startswith("proxy-shadow")}
        base = fixed["direct"]
        print(f"{'target':<20} {'rate':>7} {'p50 ms':>8} {'p99 ms':>8} {'+p50 ms':>8} {'+p99 ms':>8} "
              f"{'worst round p99':>16} {'errors':>6}")
        for name, r in fixed.items():
            print(f"{name:<20} {r['sent_rate']:>7.0f} {r['p50']:>8.3f} {r['p99']:>8.3f} "
                  f"{r['p50'] - base['p50']:>8.3f} {r['p99'] - base['p99']:>8.3f} {r['worst_round_p99']:>16.3f} "
                  f"{r['errors']:>6}")
        print("p99 per round (ms), in the order the rounds ran: " + "; ".join(
            f"{name} " + " ".join(f"{pct(r['latencies'], 99):.1f}" for r in rounds[name]) for name in targets))
        for name, figures in shadow_work.items():
            print(f"{name}: {figures}")
        print("serving processes during the fixed-rate runs:")
        for name, deltas in stalls.items():
            print(f"  {name:<20} {describe_stalls(deltas)}")
        print("CPU used during the fixed-rate runs (cores, of this machine's " f"{os.cpu_count()}):")
        for name, groups in cores.items():
            print(f"  {name:<20} " + ", ".join(f"{group} {value:.2f}" for group, value in groups.items())
                  + f"; all listed {sum(groups.values()):.2f}")
        print("CPU per request at the fixed rate (us): serving processes (nginx's workers) per request / shadow "
              "worker per mirrored request; times the serving processes were woken, per request")
        for name in fronts:
            rate = fixed[name]["sent_rate"]
            variant = PROXIES.get(name)
            shadow = (cores[name].get("shadow worker", 0.0) * 1e6 / (rate * variant.sample)
                      if variant and variant.mode == "shadow" else 0)
            print(f"  {name:<20} {cores[name]['serving'] * 1e6 / rate:>5.0f} / {shadow:>5.0f}; {wakes[name] / fixed[name]['n']:.2f} wake-ups")
        print("\nmax throughput (wrk -t2 -c16)")
        peak, cpu = {}, {}
        for name, url in targets.items():
            kinds = front(name, proxies, nginx_pid)
            before = {kind: sum(cpu_seconds(pid) for pid in pids) for kind, pids in kinds.items()}
            peak[name] = wrk(url, int(args.seconds))
            if before:
                cpu[name] = [(sum(cpu_seconds(pid) for pid in kinds[kind]) - before[kind]) / peak[name]["requests"] * 1e6
                             for kind in ("serving", "shadow")]
        print(f"{'target':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs nginx':>9} {'non-2xx':>8}"
              f"   (nginx and proxy: {args.workers} workers each)")
        for name, r in peak.items():
            print(f"{name:<20} {r['rps']:>9.0f} {r['p50']:>8.3f} {r['p99']:>8.3f} "
                  f"{r['rps'] / peak['nginx']['rps']:>8.2f}x {r['non2xx']:>8}")
        print(f"\nCPU per request under wrk (us): all {args.workers} serving processes (nginx's workers) / shadow worker")
        for name, (serving, *shadow) in cpu.items():
            print(f"{name:<20} {serving:>7.0f} / {shadow[0] if shadow else 0:>5.0f}")
        n = fixed["nginx"]
        print()
        for name in variants:
            r = fixed[name]
            print(f"{name}: added p50 {r['p50'] - base['p50']:.3f} ms (nginx {n['p50'] - base['p50']:.3f}), "
                  f"added p99 {r['p99'] - base['p99']:.3f} ms (nginx {n['p99'] - base['p99']:.3f}) at {args.rate:g} req/s; "
                  f"throughput {peak[name]['rps'] / peak['nginx']['rps']:.2f}x nginx "
                  f"({peak[name]['rps']:.0f} / {peak['nginx']['rps']:.0f} req/s, {args.workers} workers each)")
        load = os.getloadavg()
        print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
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
