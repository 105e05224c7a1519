"""An open-loop HTTP/1.1 load generator: requests at a fixed rate whatever the target's answers do,
latency measured from each request's *scheduled* send time (a stall is charged to every request it
delayed: no coordinated omission).

Keep-alive connections, one request at a time on each; the request bytes are built once and the
answers parsed by httptools. At 1,000 req/s it used 0.12-0.14 cores where an aiohttp client session
used 0.34-0.38: on two shared cores the rest is left to what is measured."""
from __future__ import annotations

import asyncio
import gc
import time
from urllib.parse import urlsplit

import httptools


class _Connection(asyncio.Protocol):
    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.keep_alive = False

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def connection_lost(self, exc) -> None:
        self.closed = True
        self._fail(exc or ConnectionResetError("closed by the target"))

    # httptools callbacks
    def on_message_complete(self) -> None:
        # Asked here: once the callback returns the parser is ready for the next message.
        self.keep_alive = self.parser.should_keep_alive()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(self.parser.get_status_code())

    def _fail(self, exc: BaseException) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class _Pool:
    def __init__(self, host: str, port: int, request: bytes):
        self.host, self.port, self.request = host, port, request
        self.idle: list[_Connection] = []

    async def get(self) -> int:
        """One exchange; the status code."""
        loop = asyncio.get_running_loop()
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                break
        else:
            _, conn = await loop.create_connection(_Connection, self.host, self.port)
        conn.waiter = loop.create_future()
        conn.transport.write(self.request)
        status = await conn.waiter
        if not conn.closed and conn.keep_alive:
            self.idle.append(conn)
        else:
            conn.transport.close()
        return status

    def close(self) -> None:
        for conn in self.idle:
            conn.transport.close()
        self.idle.clear()


async def fixed_rate(url: str, rate: float, seconds: float, warmup: float = 1.0) -> dict:
    """`rate` GET requests per second for `warmup + seconds`; the first `warmup` seconds are not
    recorded. The generator's garbage collector is off meanwhile (a collection would be charged
    to the requests it delayed)."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (f"GET {target or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
               f"User-Agent: vobe-open-loop\r\nAccept: */*\r\n\r\n").encode()
    pool = _Pool(parts.hostname, parts.port or 80, request)
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float, record: bool) -> None:
        nonlocal errors
        try:
            ok = await pool.get() == 200
        except OSError:
            ok = False
        if record:
            if ok:
                latencies.append(time.perf_counter() - scheduled)
            else:
                errors += 1

    gc.collect()
    gc.disable()
    try:
        pending: set[asyncio.Task] = set()
        start = time.perf_counter()
        total = int((warmup + seconds) * rate)
        recorded_from = int(warmup * rate)
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(scheduled, i >= recorded_from))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.wait(pending)
        elapsed = time.perf_counter() - start
    finally:
        pool.close()
        gc.enable()
    return {"sent_rate": total / elapsed, "latencies": latencies, "errors": errors}
