"""The runner raises the garbage collector's first threshold for batch processing, and never lowers
a higher setting a service chose."""
from __future__ import annotations

import gc

from cdc.consumer.runner import raise_gc_threshold


def test_the_runner_only_ever_raises_the_collector_threshold():
    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        raise_gc_threshold(None)
        assert gc.get_threshold() == (700, 10, 10)
        raise_gc_threshold(20_000)
        assert gc.get_threshold() == (20_000, 10, 10)
        raise_gc_threshold(5_000)
        assert gc.get_threshold() == (20_000, 10, 10)
    finally:
        gc.set_threshold(*saved)
