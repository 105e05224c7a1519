"""JSON-line logs for the proxy's processes, on stdout, in the schema every component shares
(observability/json_logs.py)."""
from __future__ import annotations

import logging
import sys

from observability import json_logs


def configure(level: str = "info") -> None:
    json_logs.configure(level, sys.stdout)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # it logs every change at INFO
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
