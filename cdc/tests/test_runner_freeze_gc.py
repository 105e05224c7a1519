"""gc.freeze() is process-wide, so the runner freezes the collector only when asked to
(ConsumerRunner(freeze_gc=True): a process whose main work is the runner), never by default for a
service that runs it on a thread beside its own work."""
import threading

import cdc.consumer.runner as runner_module
from cdc.tests.support import new_runner


class _RecordingGc:
    def __init__(self):
        self.calls: list[str] = []

    def collect(self):
        self.calls.append("collect")

    def freeze(self):
        self.calls.append("freeze")


def _run_stopped(runner) -> None:
    stopped = threading.Event()
    stopped.set()
    try:
        runner.run(stopped)
    finally:
        runner.close()


def test_run_leaves_the_collector_alone_by_default(monkeypatch, broker, connector, target_engine):
    recorded = _RecordingGc()
    monkeypatch.setattr(runner_module, "gc", recorded)
    _run_stopped(new_runner(connector, target_engine, broker.bootstrap))
    assert recorded.calls == []


def test_freeze_gc_collects_then_freezes_when_run_starts(monkeypatch, broker, connector, target_engine):
    recorded = _RecordingGc()
    monkeypatch.setattr(runner_module, "gc", recorded)
    _run_stopped(new_runner(connector, target_engine, broker.bootstrap, freeze_gc=True))
    assert recorded.calls == ["collect", "freeze"]
