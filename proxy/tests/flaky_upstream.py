"""An HTTP/1.1 upstream that drops the connection of the first request to each path without
answering (what a crashing worker or a keep-alive race looks like to the proxy), and answers
every later request to that path. Raw asyncio, so it can misbehave the way uvicorn never would.

    python -m proxy.tests.flaky_upstream --port-file /tmp/x

GET /healthz answers at once; GET /attempts?path=/p says how many requests for /p arrived."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
from collections import Counter
from urllib.parse import parse_qs, urlsplit

attempts: Counter = Counter()


def _answer(payload: dict, method: str = "GET") -> bytes:
    body = json.dumps(payload).encode()
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
    return head if method == "HEAD" else head + body


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
            await reader.readexactly(int(headers.get("content-length", "0")))
            url = urlsplit(target)
            if url.path == "/healthz":
                writer.write(_answer({"status": "ok"}))
            elif url.path == "/attempts":
                writer.write(_answer({"attempts": attempts[parse_qs(url.query)["path"][0]]}))
            else:
                attempts[url.path] += 1
                if attempts[url.path] == 1:
                    writer.close()  # request read, no answer: the proxy sees the connection closed
                    return
                writer.write(_answer({"attempts": attempts[url.path], "method": method}, method))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def main(port_file: str) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(_serve, sock=sock)
    with open(port_file + ".tmp", "w") as handle:
        handle.write(str(sock.getsockname()[1]))
    os.replace(port_file + ".tmp", port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    asyncio.run(main(parser.parse_args().port_file))
