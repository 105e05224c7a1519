"""Probe: commit-free broker round trip on Tansu with librdkafka, to locate the CDC latency tail.

A producer with the relay's settings sends one message every --interval seconds to one topic; a
consumer with the runtime's settings (cdc.consumer.consumer_config) receives it. Variants:
  --topics N       the consumer subscribes to N topics of 4 partitions (the runner subscribes to
                   every captured table's topic plus the heartbeat topic: 17 topics, 68 partitions)
  --second-consumer  another consumer in its own group subscribed to all N topics runs alongside
                   (the benchmark's runner next to its raw one-topic consumer)
  --override k=v   consumer settings to try
Prints p50/p99/max of produce -> consumed, and of produce -> acknowledged.

    .venv/bin/python benchmarks/cdc/fetch_probe.py --topics 17 --messages 300
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from cdc.broker import EmbeddedBroker  # noqa: E402
from cdc.consumer import consumer_config  # noqa: E402
from cdc.relay.delivery import producer_config  # noqa: E402
from tests.support.postgres_plugin import free_port  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def broker_cpu(broker) -> float:
    """User + system CPU seconds of the Tansu child process so far."""
    if broker is None:
        return 0.0
    fields = Path(f"/proc/{broker.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, value = item.split("=", 1)
        out[key] = int(value) if value.lstrip("-").isdigit() else value
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topics", type=int, default=17)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--per-flush", type=int, default=1,
                        help="messages produced (same key, so one record batch) before each flush")
    parser.add_argument("--second-consumer", action="store_true")
    parser.add_argument("--override", action="append", default=[])
    parser.add_argument("--bootstrap", help="use a running broker instead of starting Tansu")
    args = parser.parse_args()
    overrides = parse_overrides(args.override)

    broker = None
    if args.bootstrap:
        bootstrap = args.bootstrap
    else:
        broker = EmbeddedBroker(free_port(), log_file=Path(tempfile.mkdtemp()) / "tansu.log")
        broker.start()
        bootstrap = broker.bootstrap
    try:
        prefix = f"probe{uuid.uuid4().hex[:6]}"
        topics = [f"{prefix}.t{i}" for i in range(args.topics)]
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.create_topics([NewTopic(t, args.partitions, 1) for t in topics]).values():
            future.result()
        time.sleep(1)
        received: dict[bytes, float] = {}
        stop = threading.Event()
        ready = threading.Event()

        def consume(subscribe: list[str], sink: dict | None, settings: dict) -> None:
            consumer = Consumer(consumer_config(bootstrap, f"{prefix}-{uuid.uuid4().hex[:6]}", **settings))
            consumer.subscribe(subscribe)
            while not stop.is_set():
                message = consumer.poll(0.1)
                if message is None or message.error():
                    continue
                if sink is not None:
                    sink[message.value()] = time.time()
                if message.value() == b"ready":
                    ready.set()
            consumer.close()

        threads = [threading.Thread(target=consume, args=(topics, received, overrides), daemon=True)]
        if args.second_consumer:
            threads.append(threading.Thread(target=consume, args=(topics, None, {}), daemon=True))
        for thread in threads:
            thread.start()
        producer = Producer(producer_config(bootstrap, **{"delivery.report.only.error": False}))
        # Wait for the group join: send markers until one arrives.
        deadline = time.monotonic() + 60
        while not ready.is_set() and time.monotonic() < deadline:
            producer.produce(topics[0], b"ready", b"k")
            producer.flush(5)
            ready.wait(0.5)
        time.sleep(1)
        cpu_before = broker_cpu(broker)
        sent: dict[bytes, float] = {}
        acked: dict[bytes, float] = {}
        for i in range(args.messages):
            for j in range(args.per_flush):
                value = f"m{i}.{j}".encode()
                sent[value] = time.time()
                producer.produce(topics[0], value, str(i).encode(),
                                 on_delivery=lambda err, msg: acked.__setitem__(msg.value(), time.time()))
            producer.flush(5)
            time.sleep(args.interval)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(v in received for v in sent):
            time.sleep(0.1)
        window = time.time() - sent[b"m0.0"]
        cpu = broker_cpu(broker) - cpu_before
        stop.set()
        for thread in threads:
            thread.join(5)
        lost = [v for v in sent if v not in received]
        to_consumed = [(received[v] - t) * 1000 for v, t in sent.items() if v in received]
        to_ack = [(acked[v] - t) * 1000 for v, t in sent.items() if v in acked]
        print(f"topics {args.topics} x {args.partitions} partitions, second consumer {args.second_consumer}, "
              f"overrides {overrides}")
        print(f"  produce -> ack       p50 {percentile(to_ack, 50):6.1f}  p99 {percentile(to_ack, 99):6.1f}  "
              f"max {max(to_ack):6.1f} ms")
        print(f"  produce -> consumed  p50 {percentile(to_consumed, 50):6.1f}  p99 {percentile(to_consumed, 99):6.1f}  "
              f"max {max(to_consumed):6.1f} ms  (lost {len(lost)})")
        if broker is not None:
            print(f"  broker CPU {100 * cpu / window:.0f} % of a core")
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    main()
