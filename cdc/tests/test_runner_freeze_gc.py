"""gc.freeze() is process-wide, so the runner freezes the collector only when asked to
(ConsumerRunner(freeze_gc=True): a process whose main work is the runner), never by default for a
service that runs it on a thread beside its own work. Checked on the real collector; each test
unfreezes afterwards, so the test process is left as it was."""
import gc
import threading

import pytest

from cdc.tests.support import new_runner


@pytest.fixture
def collector():
    """Full collections seen while the test runs; the frozen generation emptied before and after."""
    full: list[int] = []

    def seen(phase, info):
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    gc.unfreeze()
    gc.callbacks.append(seen)
    yield full
    gc.callbacks.remove(seen)
    gc.unfreeze()


def _run_stopped(runner) -> int:
    """Run until the (already set) stop is seen; the frozen object count meanwhile."""
    stopped = threading.Event()
    stopped.set()
    try:
        runner.run(stopped)
        return gc.get_freeze_count()
    finally:
        runner.close()


def test_run_leaves_the_collector_alone_by_default(collector, broker, connector, target_engine):
    runner = new_runner(connector, target_engine, broker.bootstrap)
    assert _run_stopped(runner) == 0


def test_freeze_gc_collects_then_freezes_when_run_starts(collector, broker, connector, target_engine):
    runner = new_runner(connector, target_engine, broker.bootstrap, freeze_gc=True)
    collector.clear()
    assert _run_stopped(runner) > 10_000      # start-up objects (modules, SQLAlchemy, the runner)
    assert collector                          # a full collection first
