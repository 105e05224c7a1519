"""A carved service as one supervised unit: the API (uvicorn, in this process's children), the
forward sync (monolith -> service) and the reverse sync (outbox -> monolith). A worker that dies
takes nothing else down: it is started again after a pause (e.g. the broker is not up yet) while
the API keeps serving and /internal/sync-status shows how far behind it is.

    python -m services.<domain>.run --port 8101 [--workers 2] [--no-cdc] [--no-reverse]
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time


def main(domain_module: str, app: str, default_port: int) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-cdc", action="store_true", help="do not consume the monolith's CDC topics")
    parser.add_argument("--no-reverse", action="store_true", help="do not replay the outbox into the monolith")
    args = parser.parse_args()
    kit = [sys.executable, "-m", "services.common.carve.cli", domain_module]
    commands = [[sys.executable, "-m", "uvicorn", app, "--host", args.host, "--port", str(args.port),
                 "--workers", str(args.workers), "--loop", "uvloop", "--http", "httptools", "--no-access-log"]]
    if not args.no_cdc:
        commands.append([*kit, "forward"])
    if not args.no_reverse:
        commands.append([*kit, "reverse"])
    children = [subprocess.Popen(c) for c in commands]

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children[0].poll() is None:
        for index, child in enumerate(children[1:], start=1):
            if child.poll() is not None:
                time.sleep(2)
                children[index] = subprocess.Popen(commands[index])
        time.sleep(0.5)
    stop()
