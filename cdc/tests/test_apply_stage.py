"""The consumer runner's apply stage on its own (no broker, no database): batches are applied in
the order they were queued, a failing batch is retried and never skipped, offsets are reported only
for applied batches, and a stop leaves the unapplied ones unreported."""
import threading
import time

from cdc.consumer.apply_stage import ApplyStage, DecodedBatch


def _batch(offset: int) -> DecodedBatch:
    return DecodedBatch([], [], {("topic", 0): offset}, epoch="e1")


def test_batches_apply_in_order_and_a_failing_one_is_retried_not_skipped():
    applied, failures = [], {2: 2}          # the batch at offset 2 fails twice, then works
    stop = threading.Event()

    def apply(batch):
        offset = batch.offsets[("topic", 0)]
        if failures.get(offset):
            failures[offset] -= 1
            raise RuntimeError("target down")
        time.sleep(0.01)
        applied.append(offset)

    errors = []
    stage = ApplyStage(apply, stop, name="test", on_error=errors.append, retry_seconds=0)
    for offset in range(1, 6):
        assert stage.put(_batch(offset))
    stage.drain()
    assert applied == [1, 2, 3, 4, 5]
    assert len(errors) == 2
    assert [o[("topic", 0)] for o in stage.take_applied()] == [1, 2, 3, 4, 5]
    assert stage.take_applied() == []
    stage.close()


def test_a_stop_during_retries_reports_nothing_unapplied():
    stop = threading.Event()
    started = threading.Event()

    def apply(_batch):
        started.set()
        raise RuntimeError("target down")

    stage = ApplyStage(apply, stop, name="test")
    assert stage.put(_batch(1))
    assert stage.put(_batch(2))
    started.wait(5)
    stop.set()
    stage.close(timeout=10)
    assert stage.take_applied() == []
    assert not stage.put(_batch(3))
