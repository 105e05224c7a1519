"""JSON-line logs for every CDC process (one object per line on stderr), in the schema every
component shares (observability/json_logs.py), so the relay's, the consumers' and Debezium's
lines read like the proxy's and the services'."""
from __future__ import annotations

import sys

from observability import json_logs

JsonLineFormatter = json_logs.JsonFormatter


def configure(level: str = "INFO") -> None:
    json_logs.configure(level, sys.stderr)
