"""Prometheus metrics of the search service (served at /metrics with the shared request metrics and
the CDC consumer runtime's lag metrics)."""
from prometheus_client import Counter, Histogram

DOCUMENTS_WRITTEN = Counter("search_documents_written_total", "Documents written to the index", ["kind"])
DOCUMENTS_REMOVED = Counter("search_documents_removed_total", "Documents removed from the index", ["kind"])
INDEX_WRITE_SECONDS = Histogram("search_index_write_seconds", "One index write (commit included)",
                                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
GENERATION_SWITCHES = Counter("search_generation_switches_total", "Rebuilt index generations switched to")
