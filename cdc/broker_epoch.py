"""Noticing that the broker lost its data, and starting over with a fresh snapshot.

The embedded broker (Tansu, memory storage) forgets every topic when it restarts; a real Kafka
cluster can lose topics too (deleted, cluster rebuilt). The relay keeps an *epoch marker*: a
one-partition topic `<prefix>.relay-epoch` whose first record names the current epoch. Debezium's
offsets live in a file named after the slot and the epoch (`CDC_STATE_DIR/offsets/<slot>.<epoch>.dat`).

- Marker present at start: same epoch, same offsets file -> Debezium resumes where it stopped.
- Marker absent (first start, or the broker restarted empty): a new epoch id is written, so the
  offsets file is new and empty and Debezium (snapshot.mode=when_needed) snapshots every table
  again before streaming. Offsets a dying engine still writes go to its old epoch's file, which is
  never read again, so there is no window in which a stale offset skips a snapshot. A missing file
  in a known epoch (state folder lost) also means a snapshot: duplicates, never a gap.
- Marker disappears while running: the relay stops the engine and restarts it under a new epoch.

The replication slot is kept across epochs on purpose: Debezium reuses it, snapshots the tables at
the current LSN and then streams from the slot's confirmed position. Events it replays from before
the snapshot carry older LSNs than the snapshot rows and consumers skip them."""
from __future__ import annotations

import json
import logging
import socket
import time
import uuid

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

log = logging.getLogger("cdc.broker_epoch")


class BrokerUnavailable(RuntimeError):
    pass


class BrokerEpoch:
    def __init__(self, bootstrap_servers: str, topic: str):
        self._bootstrap = bootstrap_servers
        self.topic = topic
        self._admin = AdminClient({"bootstrap.servers": bootstrap_servers, "socket.timeout.ms": 5000})

    def topics(self, timeout: float = 5) -> set[str]:
        """All topic names; raises BrokerUnavailable when the broker does not answer."""
        try:
            # Listing every topic (not asking for one by name) never auto-creates anything.
            return set(self._admin.list_topics(timeout=timeout).topics)
        except KafkaException as exc:
            raise BrokerUnavailable(str(exc)) from exc

    def present(self) -> bool:
        return self.topic in self.topics()

    def current(self, timeout: float = 10) -> str | None:
        """The epoch id in the marker's first record, or None when there is no marker."""
        if not self.present():
            return None
        consumer = Consumer({
            "bootstrap.servers": self._bootstrap, "group.id": f"relay-epoch-{uuid.uuid4()}",
            "enable.auto.commit": False, "fetch.wait.max.ms": 50,
        })
        try:
            # Read offset 0 explicitly: Tansu's ListOffsets answers are not trustworthy.
            consumer.assign([TopicPartition(self.topic, 0, 0)])
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is None or msg.error():
                    continue
                value = msg.value()
                if value is None:        # a tombstone carries no epoch
                    continue
                return json.loads(value)["epoch"]
            return None
        finally:
            consumer.close()

    def start_new(self, reason: str) -> str:
        epoch = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
        futures = self._admin.create_topics([NewTopic(self.topic, num_partitions=1, replication_factor=-1)])
        for future in futures.values():
            try:
                future.result(10)
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
        producer = Producer({"bootstrap.servers": self._bootstrap, "enable.idempotence": False, "acks": "all"})
        marker = {"epoch": epoch, "reason": reason, "created_at": time.time(), "host": socket.gethostname()}
        errors: list = []
        producer.produce(self.topic, json.dumps(marker), key="epoch", partition=0,
                         on_delivery=lambda err, _m: errors.append(err) if err else None)
        if producer.flush(15) > 0 or errors:
            raise BrokerUnavailable(f"could not write the epoch marker: {errors}")
        # Another relay (or a retry) may have written first: the first record wins.
        return self.current() or epoch

    def ensure(self) -> tuple[str, bool]:
        """(epoch, fresh): fresh is True when a new epoch had to be started (=> full snapshot)."""
        epoch = self.current()
        if epoch is not None:
            return epoch, False
        return self.start_new("no epoch marker on the broker"), True
