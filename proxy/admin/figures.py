"""Per-route figures for `cli routes` and `GET /_proxy/routes`: totals over every serving process,
read from the same Prometheus series /metrics exposes (so the two never disagree).

Latency percentiles are estimated from the latency histogram's buckets the way Prometheus'
histogram_quantile does (linear within a bucket), over everything since the proxy started."""
from __future__ import annotations

from collections import Counter, defaultdict

from prometheus_client import CollectorRegistry


def route_figures(registry: CollectorRegistry) -> dict[str, dict]:
    requests: dict[str, Counter] = defaultdict(Counter)
    by_class: dict[str, Counter] = defaultdict(Counter)
    buckets: dict[str, Counter] = defaultdict(Counter)
    for family in registry.collect():
        if family.name == "proxy_requests":
            for sample in family.samples:
                if sample.name == "proxy_requests_total":
                    labels = sample.labels
                    requests[labels["route"]][labels["upstream"]] += sample.value
                    by_class[labels["route"]][labels["status_class"]] += sample.value
        elif family.name == "proxy_request_duration_seconds":
            for sample in family.samples:
                if sample.name == "proxy_request_duration_seconds_bucket":
                    buckets[sample.labels["route"]][float(sample.labels["le"])] += sample.value
    figures = {}
    for route in requests.keys() | buckets.keys():
        cumulative = sorted(buckets[route].items())
        figures[route] = {
            "requests": int(sum(requests[route].values())),
            "by_upstream": {k: int(v) for k, v in requests[route].items()},
            "by_status_class": {k: int(v) for k, v in by_class[route].items()},
            "p50_ms": _quantile(0.5, cumulative), "p99_ms": _quantile(0.99, cumulative),
        }
    return figures


def empty() -> dict:
    return {"requests": 0, "by_upstream": {}, "by_status_class": {}, "p50_ms": None, "p99_ms": None}


def _quantile(q: float, cumulative: list[tuple[float, float]]):
    """histogram_quantile over (upper bound, cumulative count) pairs, in milliseconds."""
    if not cumulative or cumulative[-1][1] == 0:
        return None
    rank = q * cumulative[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if bound == float("inf"):
                return round(lower_bound * 1000, 3)  # above the last finite bucket: its bound
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 0.0
            return round((lower_bound + (bound - lower_bound) * share) * 1000, 3)
        lower_bound, lower_count = bound, count
    return None
