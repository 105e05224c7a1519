"""A batch whose apply fails (the target stayed down through apply's own retries) is applied
again by run(), not skipped: the consumer's position is already past it, so moving on would lose
it as soon as a later batch commits its offsets."""
import uuid

from cdc.testing import wait_until
from cdc.tests.support import new_runner


def test_run_applies_a_failed_batch_again(relay, broker, connector, source, target_engine, target_url):
    marker = uuid.uuid4().hex[:8]
    ids = [source.execute("INSERT INTO catalog_genre (name, slug, description) VALUES (%s, %s, '') RETURNING id",
                          (f"retry-{marker}-{i}", f"retry-{marker}-{i}")).fetchone()[0] for i in range(20)]
    runner = new_runner(connector, target_engine, broker.bootstrap)
    apply, failures = runner.applier.apply, [2]

    def failing_apply(events, poison=()):
        # Fail the first two attempts at a batch holding these inserts (earlier tests' events
        # are in the topics too; failing only those would prove nothing).
        if failures[0] and any(e.key and e.key.get("id") in ids and e.op == "c" for e in events):
            failures[0] -= 1
            raise RuntimeError("target unavailable")
        return apply(events, poison)

    runner.applier.apply = failing_apply
    background = runner.start_background()
    try:
        def applied() -> bool:
            import psycopg
            with psycopg.connect(target_url) as conn:
                return conn.execute("SELECT count(*) FROM catalog_genre WHERE id = ANY(%s)", (ids,)).fetchone()[0] == 20
        wait_until(applied, 120, 0.2, "every insert applied after the failed attempts")
    finally:
        background.stop()
    assert failures == [0]
    assert runner.status.error is not None and "target unavailable" in runner.status.error
