"""Poison events go to the dead-letter topic (`<prefix>.dlq` by default) with the original key and
value and the reason in headers; the consumer commits past them only once the broker has them.

The producer is created at the first poison event and closed with the runner: an idle librdkafka
handle would otherwise keep reconnecting to a broker that is gone (and log each refusal) until the
process exits."""
from __future__ import annotations

import logging
import time
from typing import Iterable

from confluent_kafka import Producer

from cdc.consumer.envelope import ChangeEvent, PoisonEvent

log = logging.getLogger("cdc.consumer.dead_letter")


class DeadLetterPublisher:
    def __init__(self, bootstrap_servers: str, topic: str, consumer_name: str):
        self.topic = topic
        self.consumer_name = consumer_name
        self._bootstrap_servers = bootstrap_servers
        self._producer: Producer | None = None

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            # Idempotence off for the same reason as the relay: it dies fatally after a Tansu restart.
            self._producer = Producer({"bootstrap.servers": self._bootstrap_servers, "enable.idempotence": False,
                                       "acks": "all", "linger.ms": 0, "message.timeout.ms": 15000})
        return self._producer

    def publish(self, poison: Iterable[tuple[ChangeEvent, PoisonEvent]], stop=None) -> int:
        items = list(poison)
        if not items:
            return 0
        producer = self._ensure_producer()
        while True:
            errors: list = []
            for event, reason in items:
                message = event.message
                key = message.key() if message is not None else None
                value = message.value() if message is not None else None
                headers: list[tuple[str, str | bytes | None]] = [
                    ("dlq.reason", reason.reason), ("dlq.detail", reason.detail[:2000]),
                    ("dlq.source.topic", event.topic), ("dlq.source.partition", str(event.partition)),
                    ("dlq.source.offset", str(event.offset)), ("dlq.consumer", self.consumer_name),
                    ("dlq.failed_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                ]
                producer.produce(self.topic, value, key, headers=headers,
                                       on_delivery=lambda err, _m: errors.append(err) if err else None)
                log.warning("event dead-lettered", extra={"topic": event.topic, "partition": event.partition,
                                                          "offset": event.offset, "reason": reason.reason,
                                                          "detail": reason.detail[:300]})
            while producer.flush(1) > 0:
                if stop is not None and stop.is_set():
                    raise InterruptedError("stopped before the dead-letter topic acknowledged")
            if not errors:
                return len(items)
            log.error("dead-letter delivery failed; retrying", extra={"error": str(errors[0])})
            time.sleep(1)

    @property
    def open(self) -> bool:
        return self._producer is not None

    def close(self) -> None:
        """Flush what is queued (publish() already waited for its acknowledgements) and release the
        producer's connections."""
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.flush(5)
            producer.close()
