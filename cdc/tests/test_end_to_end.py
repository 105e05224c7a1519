"""Real Postgres + Tansu + Debezium relay + consumer runtime, end to end."""
from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal

import orjson
import psycopg
import pytest
from confluent_kafka import Producer

from cdc.testing import table_checksum, wait_until
from cdc.tests.support import key_events, new_runner, read_topic, run_until

pytestmark = pytest.mark.slow


def _one(url, query, *args):
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchone()


def _insert_artist(conn, name="Artist") -> int:
    return conn.execute(
        "INSERT INTO catalog_artist (name, bio, country, image_url, created_at, updated_at) "
        "VALUES (%s, '', 'SE', '', now(), now()) RETURNING id", (name,)).fetchone()[0]


def _insert_track(conn, artist_id, title="Track", price="1.00", album_id=None, genre_id=None) -> int:
    return conn.execute(
        "INSERT INTO catalog_track (title, artist_id, album_id, genre_id, duration_ms, popularity, tempo, energy, "
        "valence, price, file_path, created_at, updated_at) VALUES (%s, %s, %s, %s, 180000, 5, 120.5, 0.25, 0.125, "
        "%s, '', now(), now()) RETURNING id", (title, artist_id, album_id, genre_id, price)).fetchone()[0]


def test_insert_update_delete_and_tombstone(relay, broker, connector, source, target_url, target_engine):
    runner = new_runner(connector, target_engine, broker.bootstrap)
    try:
        slug = f"g-{uuid.uuid4().hex[:6]}"
        genre_id = source.execute("INSERT INTO catalog_genre (name, slug, description) VALUES (%s, %s, 'x') RETURNING id",
                                  (slug, slug)).fetchone()[0]
        artist_id = _insert_artist(source)
        album_id = source.execute(
            "INSERT INTO catalog_album (artist_id, title, release_date, cover_image_url, created_at, updated_at) "
            "VALUES (%s, 'Album', '2024-02-29', '', now(), now()) RETURNING id", (artist_id,)).fetchone()[0]
        track_id = _insert_track(source, artist_id, price="12.34", album_id=album_id, genre_id=genre_id)
        source.execute("UPDATE catalog_track SET price = 0.10, title = 'Renamed' WHERE id = %s", (track_id,))
        source.execute("UPDATE catalog_track SET genre_id = NULL WHERE id = %s", (track_id,))
        source.execute("DELETE FROM catalog_genre WHERE id = %s", (genre_id,))

        def caught_up():
            row = _one(target_url, "SELECT title, price, genre_id FROM catalog_track WHERE id = %s", track_id)
            genre = _one(target_url, "SELECT count(*) FROM catalog_genre WHERE id = %s", genre_id)[0]
            album = _one(target_url, "SELECT release_date::text FROM catalog_album WHERE id = %s", album_id)
            # Topics are ordered per key, not across tables: wait for each table separately.
            return row == ("Renamed", Decimal("0.10"), None) and genre == 0 and album == ("2024-02-29",)
        run_until(runner, caught_up)
        for table in ("catalog_track", "catalog_album", "catalog_artist", "catalog_genre"):
            assert table_checksum(source.info.dsn, table) == table_checksum(target_url, table), table
    finally:
        runner.close()

    genre_topic = read_topic(broker.bootstrap, connector.topic_for("catalog_genre"),
                             lambda ms: len(key_events(ms, {"id": genre_id})) >= 3)
    ops = [op for _, _, op, _ in key_events(genre_topic, {"id": genre_id})]
    assert ops == ["c", "d", "tombstone"]
    deleted = key_events(genre_topic, {"id": genre_id})[1][3]
    assert deleted["before"]["slug"] == slug       # REPLICA IDENTITY FULL: the real before image

    track_topic = read_topic(broker.bootstrap, connector.topic_for("catalog_track"),
                             lambda ms: len(key_events(ms, {"id": track_id})) >= 3)
    events = key_events(track_topic, {"id": track_id})
    assert [e[2] for e in events] == ["c", "u", "u"]
    created, updated = events[0][3], events[1][3]
    assert created["after"]["price"] == "12.34" and updated["after"]["price"] == "0.10"
    assert updated["before"]["price"] == "12.34"


def test_user_password_never_reaches_a_topic(relay, broker, connector, source):
    user_id = source.execute(
        "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined, role) VALUES ('pbkdf2_sha256$secret-hash', false, %s, '', '', %s, false, true, now(), 'user') "
        "RETURNING id", (f"u{uuid.uuid4().hex[:8]}", f"{uuid.uuid4().hex[:8]}@example.com")).fetchone()[0]
    messages = read_topic(broker.bootstrap, connector.topic_for("accounts_user"),
                          lambda ms: key_events(ms, {"id": user_id}))
    for message in messages:
        assert b"secret-hash" not in (message.value() or b"")
        assert "password" not in orjson.loads(message.value())["after"]


def test_transaction_across_tables_arrives_in_order_per_key(relay, broker, connector, source, target_url, target_engine):
    runner = new_runner(connector, target_engine, broker.bootstrap)
    try:
        with source.transaction():
            artist_id = _insert_artist(source, "Before")
            track_ids = [_insert_track(source, artist_id, f"T{i}") for i in range(3)]
            source.execute("UPDATE catalog_artist SET name = 'Middle' WHERE id = %s", (artist_id,))
            source.execute("UPDATE catalog_artist SET name = 'After' WHERE id = %s", (artist_id,))
            source.execute("UPDATE catalog_track SET popularity = popularity + 1 WHERE id = ANY(%s)", (track_ids,))
            source.execute("DELETE FROM catalog_track WHERE id = %s", (track_ids[0],))
        run_until(runner, lambda: _one(target_url, "SELECT name FROM catalog_artist WHERE id = %s", artist_id) == ("After",)
                  and _one(target_url, "SELECT count(*) FROM catalog_track WHERE id = ANY(%s)", track_ids) == (2,))
        assert _one(target_url, "SELECT popularity FROM catalog_track WHERE id = %s", track_ids[1]) == (6,)
    finally:
        runner.close()

    artists = read_topic(broker.bootstrap, connector.topic_for("catalog_artist"),
                         lambda ms: len(key_events(ms, {"id": artist_id})) >= 3)
    events = key_events(artists, {"id": artist_id})
    assert [e[2] for e in events] == ["c", "u", "u"]
    assert [e[3]["after"]["name"] for e in events] == ["Before", "Middle", "After"]
    lsns = [e[3]["source"]["lsn"] for e in events]
    assert lsns == sorted(lsns)
    assert len({e[3]["source"]["txId"] for e in events}) == 1
    tracks = read_topic(broker.bootstrap, connector.topic_for("catalog_track"),
                        lambda ms: len(key_events(ms, {"id": track_ids[0]})) >= 4)
    assert [e[2] for e in key_events(tracks, {"id": track_ids[0]})] == ["c", "u", "d", "tombstone"]


def _listen_burst(url: str, track_id: int, user_id: int, transactions: int, rows: int, tag: str,
                  pause: float = 0) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(transactions):
            time.sleep(pause)
            with conn.transaction():
                conn.execute(
                    "INSERT INTO listening_listenevent (user_id, track_id, played_at, play_duration_ms, "
                    "completion_percentage, platform, device_type) SELECT %s, %s, now(), g * 10, (g %% 100) + 0.25, "
                    "'web', %s FROM generate_series(1, %s) g", (user_id, track_id, tag, rows))
                conn.execute("UPDATE catalog_track SET popularity = (popularity + 1) %% 30000 WHERE id = %s", (track_id,))
                if i % 5 == 4:
                    conn.execute("DELETE FROM listening_listenevent WHERE id IN (SELECT id FROM listening_listenevent "
                                 "WHERE device_type = %s ORDER BY id LIMIT 3)", (tag,))


@pytest.fixture(scope="module")
def listener(source_url):
    with psycopg.connect(source_url, autocommit=True) as conn:
        user_id = conn.execute(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, role) VALUES ('x', false, 'listener', '', '', 'listener@example.com', false, true, "
            "now(), 'user') RETURNING id").fetchone()[0]
        artist_id = _insert_artist(conn)
        return user_id, _insert_track(conn, artist_id, "Burst")


def _converged(source_url: str, target_url: str, tables=("listening_listenevent", "catalog_track")) -> bool:
    sums = {t: (table_checksum(source_url, t), table_checksum(target_url, t)) for t in tables}
    _converged.last = sums
    return all(a == b for a, b in sums.values())


def test_consumer_restart_resumes_without_loss_or_duplicates(relay, broker, connector, source_url, target_url,
                                                               target_engine, listener):
    user_id, track_id = listener
    group = f"restart-{uuid.uuid4().hex[:8]}"
    first = new_runner(connector, target_engine, broker.bootstrap, group_id=group, batch_size=200)
    _listen_burst(source_url, track_id, user_id, 20, 50, "restart-1")
    try:
        run_until(first, lambda: first.status.applied >= 300, message="first runner applied part of the burst")
    finally:
        first.close()     # offsets of applied batches are committed; the rest is not
    applied_by_first = first.status.applied
    _listen_burst(source_url, track_id, user_id, 20, 50, "restart-2")
    inserts_seen = []
    listen_topic = connector.topic_for("listening_listenevent")
    second = new_runner(connector, target_engine, broker.bootstrap, group_id=group,
                        on_applied=lambda _result, events: inserts_seen.extend(
                            e for e in events if e.topic == listen_topic and e.op == "c"))
    try:
        run_until(second, lambda: _converged(source_url, target_url))
    finally:
        second.close()
    rows = _one(target_url, "SELECT count(*), count(DISTINCT id) FROM listening_listenevent WHERE device_type LIKE 'restart-%%'")
    assert rows[0] == rows[1] > 0
    # The second runner resumed from the committed offsets instead of re-reading all 2,000 inserts.
    assert applied_by_first >= 300
    assert 0 < len(inserts_seen) < 2000


def test_poison_event_goes_to_the_dead_letter_topic(relay, broker, connector, source, target_url, target_engine):
    runner = new_runner(connector, target_engine, broker.bootstrap)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": False, "partitioner": "murmur2_random"})
    marker = uuid.uuid4().hex[:8]
    genre_topic, track_topic = connector.topic_for("catalog_genre"), connector.topic_for("catalog_track")
    producer.produce(genre_topic, b"{not json " + marker.encode(), b'{"id": 999001}')
    bad_price = {"op": "c", "before": None, "after": {"id": 999002, "title": marker, "price": "abc"},
                 "source": {"lsn": 1, "ts_ms": 1}}
    producer.produce(track_topic, orjson.dumps(bad_price), b'{"id": 999002}')
    too_long = {"op": "c", "before": None, "after": {"id": 999003, "name": "x" * 500, "slug": marker, "description": ""},
                "source": {"lsn": 1, "ts_ms": 1}}
    producer.produce(genre_topic, orjson.dumps(too_long), b'{"id": 999003}')
    try:
        assert producer.flush(30) == 0
    finally:
        producer.close()      # its connections to the broker end with the test
    good = source.execute("INSERT INTO catalog_genre (name, slug, description) VALUES (%s, %s, '') RETURNING id",
                          (f"after-{marker}", f"after-{marker}")).fetchone()[0]
    try:
        run_until(runner, lambda: _one(target_url, "SELECT count(*) FROM catalog_genre WHERE id = %s", good) == (1,)
                  and runner.status.dead_lettered >= 3)
    finally:
        runner.close()
    assert _one(target_url, "SELECT count(*) FROM catalog_genre WHERE id IN (999001, 999003)") == (0,)
    dlq = read_topic(broker.bootstrap, connector.dead_letter_topic,
                     lambda ms: sum(marker.encode() in (m.value() or b"") for m in ms) >= 3)
    reasons = {dict(m.headers())["dlq.reason"].decode() for m in dlq if marker.encode() in (m.value() or b"")}
    assert reasons == {"value-not-json", "bad-decimal", "target-rejected"}
    headers = dict(next(m for m in dlq if b"abc" in (m.value() or b"")).headers())
    assert headers["dlq.source.topic"].decode() == track_topic and headers["dlq.consumer"]


def test_relay_kill9_mid_burst_loses_nothing(relay, broker, connector, source_url, target_url, target_engine, listener):
    user_id, track_id = listener
    runner = new_runner(connector, target_engine, broker.bootstrap)
    background = runner.start_background()
    writer = threading.Thread(target=_listen_burst, args=(source_url, track_id, user_id, 80, 100, "kill9"))
    try:
        writer.start()
        wait_until(lambda: _one(source_url, "SELECT count(*) FROM listening_listenevent WHERE device_type = 'kill9'")[0] > 2000,
                   120, message="burst under way")
        relay.kill9()
        time.sleep(1)
        relay.start()     # same slot, same broker epoch: resumes from the last committed offsets
        writer.join(300)
        relay.wait_ready()
        wait_until(lambda: _converged(source_url, target_url), 300, 1, "target equals source after kill -9")
    finally:
        background.stop()
    count = _one(source_url, "SELECT count(*) FROM listening_listenevent WHERE device_type = 'kill9'")[0]
    assert count == 80 * 100 - 16 * 3
    assert table_checksum(source_url, "listening_listenevent") == table_checksum(target_url, "listening_listenevent")


def test_broker_restart_triggers_a_fresh_snapshot(relay, broker, connector, source_url, target_url, target_engine, listener):
    user_id, track_id = listener
    runner = new_runner(connector, target_engine, broker.bootstrap)
    background = runner.start_background()
    try:
        wait_until(lambda: _converged(source_url, target_url), 180, 1, "target caught up before the restart")
        epoch_before = relay.status()["epoch"]
        broker.restart()                                 # memory storage: every topic is gone
        # Spread over the relay's broker check (1 s): inserts, and deletes of earlier rows, commit
        # before, while and after the relay moves to the new epoch.
        _listen_burst(source_url, track_id, user_id, 15, 20, "after-broker-restart", pause=0.2)
        wait_until(lambda: relay.status().get("epoch") not in (None, epoch_before), 120, 1, "relay started a new epoch")
        relay.wait_ready()
        try:
            wait_until(lambda: _converged(source_url, target_url), 120, 1, "target equals source after broker restart")
        except AssertionError:
            source_ids = set(_one(source_url, "SELECT coalesce(array_agg(id), '{}') FROM listening_listenevent")[0])
            target_ids = set(_one(target_url, "SELECT coalesce(array_agg(id), '{}') FROM listening_listenevent")[0])
            raise AssertionError(f"(source, target) checksums {_converged.last}; only in the target: "
                                 f"{sorted(target_ids - source_ids)[:20]}, only in the source: "
                                 f"{sorted(source_ids - target_ids)[:20]}")
    finally:
        background.stop()
    # The new broker holds a full snapshot again: rows written long before the restart are there as op=r.
    tracks = read_topic(broker.bootstrap, connector.topic_for("catalog_track"),
                        lambda ms: key_events(ms, {"id": track_id}))
    assert "r" in [e[2] for e in key_events(tracks, {"id": track_id})]
