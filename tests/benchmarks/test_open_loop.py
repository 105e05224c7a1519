"""The proxy benchmark's open-loop generator: keep-alive connections reused (one per request would
charge every target an accept), non-200 answers counted as errors, and latency taken from the
scheduled send time, so a stall of the target is charged to every request it delayed."""
from __future__ import annotations

import asyncio

from benchmarks.proxy.open_loop import fixed_rate

BODY = b'{"ok": true}'


async def serve(status: int = 200, stall_after: int | None = None, stall: float = 0.0):
    """A keep-alive HTTP/1.1 server on a free port; counts connections and requests. Its handlers
    are in seen["handlers"], to be awaited before the server closes."""
    seen = {"connections": 0, "requests": 0, "handlers": set()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"] += 1
        seen["handlers"].add(asyncio.current_task())
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                seen["requests"] += 1
                if seen["requests"] == stall_after:
                    await asyncio.sleep(stall)
                writer.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\nContent-Type: application/json\r\n\r\n%s"
                             % (status, len(BODY), BODY))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/api/v1/tracks/?page=2", seen


async def run(server, seen, url: str, **load) -> dict:
    async with server:
        result = await fixed_rate(url, **load)
        await asyncio.wait(seen["handlers"], timeout=10)   # the generator closed its connections
    return result


async def test_connections_are_kept_alive_and_every_request_recorded():
    server, url, seen = await serve()
    result = await run(server, seen, url, rate=200, seconds=1.0, warmup=0.25)
    assert result["errors"] == 0
    assert len(result["latencies"]) == 200
    assert seen["requests"] == 250
    # Reused: one connection per request would be 250. How many are open at once depends on how
    # fast the server answers, so no tighter bound.
    assert seen["connections"] < seen["requests"] / 2


async def test_non_200_answers_are_errors():
    server, url, seen = await serve(status=503)
    result = await run(server, seen, url, rate=100, seconds=0.5, warmup=0.0)
    assert result["latencies"] == [] and result["errors"] == 50


async def test_a_stall_is_charged_to_the_requests_it_delayed():
    # One request held 200 ms on a connection: the requests scheduled meanwhile go out on other
    # connections, but the held one's latency counts from when it was due.
    server, url, seen = await serve(stall_after=20, stall=0.2)
    result = await run(server, seen, url, rate=100, seconds=1.0, warmup=0.0)
    assert result["errors"] == 0
    assert max(result["latencies"]) >= 0.2
    assert seen["connections"] >= 2                   # the others did not wait behind it
