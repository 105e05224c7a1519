"""Clients calling through the proxy while a route goes legacy -> shadow -> canary -> new -> legacy,
twice: the shared scenario of the flip-under-load tests."""
import asyncio

import aiohttp

FLIPS = [("shadow", None), ("canary", 50), ("new", None), ("legacy", None)] * 2
CLIENTS = 4


def flip_under_load(proxy, route: str, fresh_connections: bool = False) -> tuple[list, list]:
    """Returns ((status, x-served-by) of every request, the flip replies). Fresh connections reach
    every serving process; kept-alive ones see flips in the middle of a connection."""

    async def load(stop: asyncio.Event, results: list):
        connector = aiohttp.TCPConnector(force_close=fresh_connections)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
            while not stop.is_set():
                async with session.get(proxy.url + "/api/v1/tracks/?page=1") as response:
                    await response.read()
                    results.append((response.status, response.headers.get("x-served-by")))

    async def scenario():
        stop, results, replies = asyncio.Event(), [], []
        clients = [asyncio.create_task(load(stop, results)) for _ in range(CLIENTS)]
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0.5)
        for mode, percent in FLIPS:
            replies.append(await loop.run_in_executor(None, proxy.flip, route, mode, percent))
            await asyncio.sleep(0.3)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*clients)
        return results, replies

    return asyncio.run(scenario())
