"""Latency and throughput over keep-alive HTTP connections (http.client: the client adds little of
its own time, so the figures are the servers')."""
from __future__ import annotations

import http.client
import statistics
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit


class Client:
    def __init__(self, base_url: str, timeout: float = 120):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, path: str, params: dict) -> tuple[int, bytes]:
        url = f"{path}?{urlencode(params)}"
        for attempt in (1, 2):
            try:
                self.conn.request("GET", url, headers={"Host": "localhost"})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                # the server closed an idle keep-alive connection: reconnect once
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


@dataclass
class Latencies:
    samples_ms: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples_ms)


def latencies(base_url: str, path: str, param: str, queries: list[str], extra: dict | None = None) -> Latencies:
    client = Client(base_url)
    client.get(path, {param: queries[0], **(extra or {})})  # warm the connection
    samples = []
    for query in queries:
        started = time.perf_counter()
        status, _ = client.get(path, {param: query, **(extra or {})})
        samples.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"{base_url}{path} answered {status} for {query!r}")
    return Latencies(samples)


def throughput(base_url: str, path: str, param: str, queries: list[str], concurrency: int, seconds: float) -> float:
    """Requests per second with `concurrency` clients looping over the queries for `seconds`."""
    done = [0] * concurrency
    stop_at = time.perf_counter() + seconds

    def worker(index: int) -> None:
        client = Client(base_url)
        position = index
        while time.perf_counter() < stop_at:
            client.get(path, {param: queries[position % len(queries)]})
            position += concurrency
            done[index] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)
