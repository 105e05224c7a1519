"""A small real upstream for the proxy tests, run as its own uvicorn process:

    python -m proxy.tests.upstream_app --name legacy --port-file /tmp/x [--variant renamed-title]

It answers like a DRF service would for a few catalog paths, and has endpoints that exercise the
proxy: echo of what arrived, streaming, slow answers, chosen statuses, repeated Set-Cookie."""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import socket
import time
from datetime import datetime, timezone

import uvicorn

NAME = os.environ.get("UPSTREAM_NAME", "upstream")
VARIANT = os.environ.get("UPSTREAM_VARIANT", "")
_counter = itertools.count()


def _json(payload, status=200, headers=()):
    body = json.dumps(payload).encode()
    return status, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"x-served-by", NAME.encode()), *headers], body


def _tracks(query: dict) -> dict:
    results = [{"id": i, "title": f"Track {i}", "duration": 180 + i, "price": "1.99"} for i in range(1, 4)]
    if VARIANT == "renamed-title":
        results[1]["title"] = "Track two"
    if VARIANT == "reordered":
        results.reverse()
    return {
        "count": len(results), "next": None, "previous": None, "results": results,
        # noise: differs between two answers of the same system
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "served_by": NAME,
    }


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path, method = scope["path"], scope["method"]
    query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if "=" in p)
    body = bytearray()
    chunks = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        if message.get("body"):
            chunks += 1
        body += message.get("body", b"")
        if not message.get("more_body"):
            break

    if VARIANT == "slow-shadow" and any(name == b"x-vobe-shadow" for name, _ in scope["headers"]):
        await asyncio.sleep(3)  # a candidate that keeps the shadow worker busy
    if VARIANT == "down":  # alive for health checks only
        status, headers, payload = _json({"detail": "broken"}, 503) if path != "/healthz" else _json({"status": "ok"})
    elif path == "/healthz":
        status, headers, payload = _json({"status": "ok", "name": NAME})
    elif path.startswith("/api/v1/tracks"):
        status, headers, payload = _json(_tracks(query))
    elif path.startswith("/api/v1/broken"):
        status, headers, payload = _json({"detail": "A server error occurred."}, 500)
    elif path.startswith("/status/"):
        code = int(path.rsplit("/", 1)[1])
        status, headers, payload = _json({"detail": f"status {code}"}, code)
    elif path.startswith("/slow"):
        await asyncio.sleep(float(query.get("s", "1")))
        status, headers, payload = _json({"slept": query.get("s"), "served_by": NAME})
    elif path.startswith("/cookies"):
        status, headers, payload = _json({"served_by": NAME}, headers=[
            (b"set-cookie", b"a=1; Path=/"), (b"set-cookie", b"b=2; Path=/; HttpOnly")])
    elif path.startswith("/stream"):
        parts = int(query.get("parts", "5"))
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"x-served-by", NAME.encode())]})
        for i in range(parts):
            await send({"type": "http.response.body", "body": f"part {i}\n".encode(), "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
        return
    else:  # echo
        status, headers, payload = _json({
            "served_by": NAME, "method": method, "path": path, "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body_bytes": len(body), "body_chunks": chunks, "body_sha256": hashlib.sha256(body).hexdigest(),
            "n": next(_counter), "at": time.time(),
        })
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def main() -> None:
    global NAME, VARIANT
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default=NAME)
    parser.add_argument("--variant", default=VARIANT)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    args = parser.parse_args()
    NAME, VARIANT = args.name, args.variant
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as handle:
            handle.write(str(sock.getsockname()[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    config = uvicorn.Config(app, loop="uvloop", http="httptools", log_level="warning", access_log=False,
                            timeout_keep_alive=5)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
