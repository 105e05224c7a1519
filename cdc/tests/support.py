"""Small helpers shared by the end-to-end tests."""
from __future__ import annotations

import time
import uuid

import orjson
from confluent_kafka import Consumer

from cdc.consumer import ConsumerRunner, TopicMap
from cdc.testing import wait_until


def read_topic(bootstrap: str, topic: str, until, timeout: float = 120) -> list:
    """Every message of a topic from offset 0, polled until `until(messages)` holds."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 5,
                         "topic.metadata.refresh.interval.ms": 1000})
    consumer.subscribe([topic])
    messages = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                messages.append(message)
            if until(messages):
                return messages
        raise AssertionError(f"{topic}: condition not met; got {len(messages)} messages")
    finally:
        consumer.close()


def key_events(messages, key: dict) -> list[tuple[int, int, str, dict | None]]:
    """(partition, offset, op, value) of one key's messages, in offset order."""
    out = []
    for m in messages:
        if m.key() and orjson.loads(m.key()) == key:
            value = orjson.loads(m.value()) if m.value() is not None else None
            out.append((m.partition(), m.offset(), value["op"] if value else "tombstone", value))
    return sorted(out, key=lambda e: e[1])


def new_runner(connector, target_engine, bootstrap: str, **kwargs) -> ConsumerRunner:
    kwargs.setdefault("group_id", f"test-{uuid.uuid4().hex[:8]}")
    return ConsumerRunner(TopicMap.mirror(connector.topic_prefix, connector.data_tables), target_engine,
                          bootstrap_servers=bootstrap, epoch_check_secs=1, **kwargs)


def run_until(runner: ConsumerRunner, predicate, timeout: float = 180, message: str = "target caught up"):
    def step():
        runner.run_once(0.2)
        return predicate()
    return wait_until(step, timeout, 0, message)
