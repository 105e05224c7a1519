""""Caught up" per partition of the domain's own topics, on the real relay and broker: a catalog_track
partition the consumer has not read past is reported behind while the heartbeat topic (and with it
the highest applied LSN over all partitions) is already past the target."""
from __future__ import annotations

import uuid

from confluent_kafka import TopicPartition

from cdc.consumer import partition_progress, partitions_behind
from cdc.lsn import lsn_to_int
from cdc.testing import wait_until
from cdc.tests.support import new_runner, run_until


def current_lsn(source) -> int:
    return lsn_to_int(source.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0])


def test_a_lagging_table_partition_is_behind_while_the_heartbeat_is_ahead(relay, broker, connector, source,
                                                                          target_engine):
    prefix = connector.topic_prefix
    heartbeat, track_topic = f"{prefix}.cdc.heartbeat", f"{prefix}.public.catalog_track"
    runner = new_runner(connector, target_engine, broker.bootstrap)
    tables = runner.topic_map.topics

    def behind(target, **kwargs):
        kwargs.setdefault("heartbeat_topic", heartbeat)
        return partitions_behind(target_engine, runner.name, tables, target, broker.bootstrap,
                                 epoch=runner.status.epoch, **kwargs)

    def progress():
        return partition_progress(target_engine, runner.name)

    try:
        first = current_lsn(source)
        run_until(runner, lambda: not behind(first), message="caught up before the lag")

        track_partitions = [tp for tp in runner._consumer.assignment() if tp.topic == track_topic]
        assert track_partitions
        runner._consumer.pause([TopicPartition(tp.topic, tp.partition) for tp in track_partitions])
        artist = source.execute("INSERT INTO catalog_artist (name, bio, country, image_url, created_at, updated_at) "
                                "VALUES (%s, '', 'SE', '', now(), now()) RETURNING id",
                                (f"lag-{uuid.uuid4().hex[:6]}",)).fetchone()[0]
        source.execute("INSERT INTO catalog_track (title, artist_id, duration_ms, popularity, price, file_path, "
                       "created_at, updated_at) VALUES ('Lagging', %s, 1000, 1, 1.00, '', now(), now())", (artist,))
        target = current_lsn(source)

        def heartbeat_past_target() -> bool:
            return any(p.topic == heartbeat and p.lsn is not None and p.lsn >= target for p in progress())
        run_until(runner, heartbeat_past_target, message="a heartbeat after the target applied")

        # The highest LSN over all partitions (the heartbeat's) says caught up ...
        assert max(p.lsn for p in progress() if p.lsn is not None) >= target
        # ... but the track partition holding the insert has not applied it.
        [lag] = behind(target)
        assert (lag.topic, lag.reason) == (track_topic, "behind")
        assert lag.next_lsn is not None and lag.next_lsn < target
        assert lag.next_offset > (lag.applied_offset if lag.applied_offset is not None else -1)
        # The relay's own delivered position as the precondition instead of the heartbeat's.
        assert [(lag.topic, lag.reason) for lag in behind(target, heartbeat_topic=None, delivered_lsn=target - 1)] == [
            ("relay", "not-delivered"), (track_topic, "behind")]

        runner._consumer.resume([TopicPartition(tp.topic, tp.partition) for tp in track_partitions])
        run_until(runner, lambda: not behind(target), message="caught up after resuming")
        with target_engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM catalog_track WHERE artist_id = %s",
                                        (artist,)).scalar_one() == 1
        rows = [p for p in progress() if p.topic == track_topic and p.partition == lag.partition]
        assert rows and rows[0].offset >= lag.next_offset and rows[0].as_dict()["lsn"].count("/") == 1
    finally:
        runner.close()


def test_an_empty_answer_needs_the_precondition(relay, broker, connector, source, target_engine):
    """A consumer that has applied nothing has every partition behind (from offset 0) and the heartbeat
    not delivered; the heartbeat topic itself is refused as one of the domain's topics."""
    source.execute("INSERT INTO catalog_artist (name, bio, country, image_url, created_at, updated_at) "
                   "VALUES ('Never read', '', 'SE', '', now(), now())")
    runner = new_runner(connector, target_engine, broker.bootstrap)
    runner.close()
    heartbeat = f"{connector.topic_prefix}.cdc.heartbeat"
    target = current_lsn(source)

    def lags_with_a_partition():
        # Until the relay has delivered the insert, its partition may still be empty.
        lags = partitions_behind(target_engine, runner.name, [f"{connector.topic_prefix}.public.catalog_artist"],
                                 target, broker.bootstrap, heartbeat_topic=heartbeat)
        return lags if len(lags) > 1 else None
    found = wait_until(lags_with_a_partition, 60, 0.5, "the insert delivered")
    assert found[0].reason == "not-delivered" and found[0].topic == heartbeat
    assert any(lag.reason == "behind" and lag.applied_offset is None and lag.next_offset == 0 for lag in found[1:])
    try:
        partitions_behind(target_engine, runner.name, [heartbeat], 0, broker.bootstrap, heartbeat_topic=heartbeat)
    except ValueError:
        pass
    else:
        raise AssertionError("the heartbeat topic is not a domain topic")
