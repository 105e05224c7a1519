"""Prometheus metrics of consumer runners (one label value per consumer name)."""
from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("cdc_consumer_events_total", "Change events handled", ["consumer", "outcome"])
BATCH_SECONDS = Histogram("cdc_consumer_batch_seconds", "Decode + apply + commit per batch", ["consumer"],
                          buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))
APPLY_LATENCY = Histogram("cdc_consumer_commit_to_apply_seconds",
                          "Source commit -> applied in the target (newest event of a batch, snapshots excluded)",
                          ["consumer"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60))
LAST_LSN = Gauge("cdc_consumer_last_applied_lsn", "Source LSN of the newest applied event", ["consumer"])
LAST_SOURCE_TS = Gauge("cdc_consumer_last_source_timestamp_seconds", "Source commit time of the newest applied event",
                       ["consumer"])
STALENESS = Gauge("cdc_consumer_source_staleness_seconds",
                  "now - source commit time of the newest applied event (heartbeats bound it when idle)", ["consumer"])
EPOCH_RESETS = Counter("cdc_consumer_epoch_resets_total", "Re-reads from the beginning after the relay started a new epoch",
                       ["consumer"])
