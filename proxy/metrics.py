"""Prometheus metrics of the proxy, per route and per upstream; the shadow worker keeps its own
(ShadowMetrics), the supervisor its restart counters (SupervisorMetrics).

Under the supervisor every process of one proxy run writes its values to files in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) and /metrics, from whichever
serving process answers, is the sum over all of them (`collect_all`). Gauges say how processes
combine: `livemax` (worst breaker state, current route mode), `livemin` (upstream up only if every
process's probe says so), `livesum` (shadow queue). The route table's modes are configuration, not
a measurement: they come from the answering process's current table (RouteTableCollector), so a
route removed from the table leaves /metrics at once."""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR  # noqa: F401
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2)
STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class RouteTableCollector(Collector):
    """proxy_route_mode and proxy_route_canary_percent of the routes in the current table only.
    (Gauges in multiprocess files cannot drop a label set, so a removed route would stay.)"""

    def __init__(self):
        self.table = None

    def collect(self):
        from proxy.routing.table import Mode
        modes = GaugeMetricFamily("proxy_route_mode", "Current mode of each route (1 for the active mode)",
                                  labels=["route", "mode"])
        percent = GaugeMetricFamily("proxy_route_canary_percent", "Canary percentage of each route", labels=["route"])
        if self.table is not None:
            for route in (*self.table.routes, self.table.unmatched):
                for mode in Mode:
                    modes.add_metric([route.name, mode.value], 1 if route.mode == mode else 0)
                percent.add_metric([route.name], route.spec.percent or 0)
        return [modes, percent]


def collect_all(own: CollectorRegistry, route_table: RouteTableCollector | None = None) -> CollectorRegistry:
    """The registry to expose: every process's files (and this process's route table) in
    multiprocess mode, else this process's own registry."""
    if not multiprocess():
        return own
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    if route_table is not None:
        registry.register(route_table)
    return registry


class ProxyMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        if registry is None:
            registry = CollectorRegistry(auto_describe=True)
            if not multiprocess():  # these describe one process only; meaningless summed over several
                from prometheus_client import ProcessCollector, PlatformCollector, GCCollector
                ProcessCollector(registry=registry)
                PlatformCollector(registry=registry)
                GCCollector(registry=registry)
        self.registry = registry
        self.requests = Counter(
            "proxy_requests", "Client requests answered, by route, upstream that answered and status class",
            ["route", "upstream", "status_class"], registry=registry)
        self.latency = Histogram(
            "proxy_request_duration_seconds", "Time from request to the end of the response, by route and upstream",
            ["route", "upstream"], buckets=LATENCY_BUCKETS, registry=registry)
        self.upstream_errors = Counter(
            "proxy_upstream_errors", "Failed upstream exchanges by kind (connect, timeout, disconnect, breaker_open, status)",
            ["upstream", "kind"], registry=registry)
        self.retries = Counter("proxy_upstream_retries", "Requests retried on another connection", ["upstream"],
                               registry=registry)
        self.breaker_state = Gauge("proxy_breaker_state", "Circuit breaker: 0 closed, 1 half-open, 2 open "
                                   "(the worst over serving processes)", ["upstream"], registry=registry,
                                   multiprocess_mode="livemax")
        self.upstream_up = Gauge("proxy_upstream_up", "Last health probe of the upstream succeeded (1) or not (0)",
                                 ["upstream"], registry=registry, multiprocess_mode="livemin")
        self.fallbacks = Counter("proxy_fallbacks", "Safe requests answered by legacy because the target failed",
                                 ["route", "reason"], registry=registry)
        self.canary = Counter("proxy_canary_decisions", "Canary routing decisions by side and stickiness key kind",
                              ["route", "side", "key"], registry=registry)
        self.rejected = Counter("proxy_rejected_requests", "Requests the proxy refused itself (limits, bad Host)",
                                ["reason"], registry=registry)
        self.shadow_dropped = Counter("proxy_shadow_dropped",
                                      "Shadow requests not mirrored, by reason (sampled_out, overloaded, worker_down)",
                                      ["route", "reason"], registry=registry)
        self.reloads = Counter("proxy_route_table_reloads", "Route table loads by result (applied, unchanged, invalid)",
                               ["result"], registry=registry)
        self.route_table = RouteTableCollector()
        if not multiprocess():   # in multiprocess mode collect_all adds it to the merged registry
            registry.register(self.route_table)
        # Where a latency tail comes from: this process's event loop late to wake up, or the
        # garbage collector stopping it (proxy/serving/loop_monitor.py).
        self.loop_lag = Histogram("proxy_event_loop_lag_seconds", "How late the serving event loop woke up "
                                  "for a timer (time it was blocked or starved of CPU)", buckets=LAG_BUCKETS,
                                  registry=registry)
        self.gc_pause = Histogram("proxy_gc_pause_seconds", "Garbage collector pauses in serving processes",
                                  ["generation"], buckets=LAG_BUCKETS, registry=registry)

        # labels() takes a lock and builds a key on every call; the hot path keeps the children.
        self._request_children: dict[tuple, tuple] = {}

    def observe_request(self, route: str, upstream: str, status_class: str, seconds: float) -> None:
        key = (route, upstream, status_class)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (self.requests.labels(*key), self.latency.labels(route, upstream))
        children[0].inc()
        children[1].observe(seconds)

    def status_class(self, status: int) -> str:
        return STATUS_CLASSES.get(status // 100, "other")

    def publish_table(self, table) -> None:
        self.route_table.table = table

    def exposed(self) -> CollectorRegistry:
        """What /metrics shows: see collect_all."""
        return collect_all(self.registry, self.route_table)


class ShadowMetrics:
    """The shadow worker's metrics. Attribute names match ProxyMetrics where the shared upstream
    and forwarding code uses them, metric names do not: the two pages are served as one."""

    def __init__(self):
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.shadow_results = Counter("proxy_shadow_results", "Shadow comparisons by result",
                                      ["route", "result"], registry=registry)
        self.shadow_match_ratio = Gauge("proxy_shadow_match_ratio",
                                        "Share of compared shadow requests that matched exactly (noise is not a match)",
                                        ["route"], registry=registry, multiprocess_mode="livemax")
        self.shadow_mismatch_ratio = Gauge("proxy_shadow_mismatch_ratio",
                                           "Share of compared shadow requests that mismatched (the go/no-go figure)",
                                           ["route"], registry=registry, multiprocess_mode="livemax")
        self.shadow_inflight = Gauge("proxy_shadow_inflight", "Shadow exchanges in progress", registry=registry,
                                     multiprocess_mode="livesum")
        self.shadow_queued = Gauge("proxy_shadow_queued", "Mirrored requests waiting in the shadow worker",
                                   registry=registry, multiprocess_mode="livesum")
        self.upstream_errors = Counter(
            "proxy_shadow_upstream_errors", "Failed shadow exchanges by upstream and kind", ["upstream", "kind"],
            registry=registry)
        self.retries = Counter("proxy_shadow_upstream_retries", "Shadow requests retried (never: kept for the "
                               "shared forwarding code)", ["upstream"], registry=registry)
        self.breaker_state = Gauge("proxy_shadow_breaker_state",
                                   "Shadow-side circuit breaker: 0 closed, 1 half-open, 2 open", ["upstream"],
                                   registry=registry, multiprocess_mode="livemax")
        self.upstream_up = Gauge("proxy_shadow_upstream_up", "Shadow-side health probe result", ["upstream"],
                                 registry=registry, multiprocess_mode="livemin")


class SupervisorMetrics:
    """Counted by the supervisor process (proxy/serving/supervisor.py)."""

    def __init__(self):
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.shadow_worker_restarts = Counter("proxy_shadow_worker_restarts",
                                              "Times the shadow worker process died and was started again",
                                              registry=registry)
        self.worker_restarts = Counter("proxy_worker_restarts", "Times a serving process died and was started again",
                                       registry=registry)
