"""Prometheus metrics of the relay (served at /metrics)."""
from prometheus_client import Counter, Gauge, Histogram

from cdc.relay.weighted_histogram import WeightedHistogram

EVENTS = Counter("cdc_relay_events_total", "Change events delivered to the broker", ["topic"])
TOMBSTONES = Counter("cdc_relay_tombstones_total", "Tombstones delivered to the broker")
BATCHES = Counter("cdc_relay_batches_total", "Debezium batches delivered and marked processed")
BATCH_SIZE = Histogram("cdc_relay_batch_size", "Records per Debezium batch",
                       buckets=(1, 2, 5, 10, 50, 100, 500, 1000, 2000, 4096, 8192))
DELIVERY_SECONDS = Histogram("cdc_relay_batch_delivery_seconds", "Produce + broker acknowledgement per batch",
                             buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30))
COMMIT_TO_ACK_SECONDS = WeightedHistogram(
    "cdc_relay_commit_to_ack_seconds", "Source commit timestamp -> broker acknowledgement, per change event",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60))
HANDOVER_SECONDS = Counter("cdc_relay_handover_seconds_total",
                           "Time spent reading Debezium's records into Python (JVM -> Python strings)")
DELIVERY_FAILURES = Counter("cdc_relay_delivery_failures_total", "Records the broker did not acknowledge")
DELIVERY_RETRIES = Counter("cdc_relay_delivery_retries_total", "Batches re-sent after a failed delivery")
LAST_LSN = Gauge("cdc_relay_last_source_lsn", "Source LSN of the last delivered change event")
LAST_SOURCE_TS = Gauge("cdc_relay_last_source_timestamp_seconds", "Source commit time of the last delivered event")
SOURCE_LAG = Gauge("cdc_relay_source_lag_seconds",
                   "now - source commit time of the last delivered event (heartbeats keep it fresh when idle)")
WAL_BEHIND = Gauge("cdc_relay_wal_behind_bytes", "pg_current_wal_lsn() - last delivered LSN")
SLOT_BEHIND = Gauge("cdc_relay_slot_behind_bytes", "pg_current_wal_lsn() - slot confirmed_flush_lsn (WAL held)")
ENGINE_RUNNING = Gauge("cdc_relay_engine_running", "1 while the Debezium task is running")
ENGINE_RESTARTS = Counter("cdc_relay_engine_restarts_total", "Engine (re)starts", ["reason"])
BROKER_RESETS = Counter("cdc_relay_broker_resets_total", "Times the broker lost its data and the relay re-snapshotted")
SNAPSHOT_RUNNING = Gauge("cdc_relay_snapshot_running", "1 while snapshot (r) events are flowing")
