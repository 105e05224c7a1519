"""Producing a Debezium batch to the broker and returning only once the broker acknowledged every
record (acks=all). The engine marks records processed after deliver() returns, so Debezium never
commits an offset for an event the broker does not hold.

Why these producer settings:
- enable.idempotence=false: Tansu forgets producer ids when it restarts and an idempotent producer
  then fails fatally (UNKNOWN_PRODUCER_ID). Without idempotence, ordering per partition is kept by
  max.in.flight.requests.per.connection=1; a failed batch is re-sent whole, so a key may be
  delivered twice, never out of order for good (consumers skip events older than the applied LSN).
- partitioner=murmur2_random: the same key -> partition mapping as Kafka Connect's Java producer,
  so switching production between the relay and Kafka Connect keeps each key on its partition.
- linger.ms small: the engine hands us whole batches and waits for them; a long linger only adds
  latency to single-row commits.
- allow.auto.create.topics=false: the relay creates its topics at the start of an epoch
  (epoch_topics.py); a broker that lost them must refuse the old epoch's batches.

A batch given up (stop, lost broker) is purged from the producer's queue, so none of it reaches
the broker later, e.g. after the next epoch has created its topics."""
from __future__ import annotations

import logging
import threading
from typing import Callable, Sequence

from confluent_kafka import KafkaError, KafkaException, Producer

from cdc.relay import metrics

log = logging.getLogger("cdc.relay.delivery")


class DeliveryAborted(RuntimeError):
    """The relay asked the engine to stop (shutdown or broker lost its data) mid-delivery."""


def producer_config(bootstrap_servers: str, **overrides) -> dict:
    config = {
        "bootstrap.servers": bootstrap_servers,
        "client.id": "vobe-cdc-relay",
        "enable.idempotence": False,
        "acks": "all",
        "max.in.flight.requests.per.connection": 1,
        "partitioner": "murmur2_random",
        "linger.ms": 1,
        "batch.num.messages": 10000,
        "batch.size": 4 * 1024 * 1024,
        "queue.buffering.max.messages": 500000,
        "queue.buffering.max.kbytes": 512 * 1024,
        "message.timeout.ms": 15000,
        "retry.backoff.ms": 100,
        "retry.backoff.max.ms": 1000,
        "socket.nagle.disable": True,
        "topic.metadata.refresh.interval.ms": 10000,
        "allow.auto.create.topics": False,
        # flush() waits for every message either way; only failures need to reach Python.
        "delivery.report.only.error": True,
    }
    config.update(overrides)
    return config


class BatchDelivery:
    def __init__(self, bootstrap_servers: str, abort: threading.Event,
                 on_failed_topics: Callable[[set[str]], None] | None = None, **overrides):
        """`on_failed_topics(topics)` runs before a failed batch is re-sent: the relay creates topics
        that are missing in its current epoch there, or raises DeliveryAborted if the epoch is gone."""
        self._config = producer_config(bootstrap_servers, **overrides)
        self._abort = abort
        self._on_failed_topics = on_failed_topics
        self._producer = Producer(self._config)

    def deliver(self, messages: Sequence[tuple[str, bytes | str | None, bytes | str | None]]) -> int:
        """Send (topic, key, value) in order; block until all are acknowledged. Returns attempts."""
        try:
            return self._deliver(messages)
        except DeliveryAborted:
            self.discard_pending()
            raise

    def _deliver(self, messages) -> int:
        attempt = 0
        while True:
            attempt += 1
            errors: list[KafkaError] = []
            failed_topics: set[str] = set()

            def on_delivery(err, msg, errors=errors, failed_topics=failed_topics):
                if err is not None:
                    errors.append(err)
                    failed_topics.add(msg.topic())

            self._produce_all(messages, on_delivery)
            while self._producer.flush(0.5) > 0:
                if self._abort.is_set():
                    raise DeliveryAborted("stop requested while waiting for acknowledgements")
            if not errors:
                return attempt
            metrics.DELIVERY_FAILURES.inc(len(errors))
            fatal = any(e.fatal() for e in errors)
            log.warning("delivery failed; resending the whole batch",
                        extra={"errors": len(errors), "first_error": str(errors[0]), "attempt": attempt,
                               "batch": len(messages), "recreate_producer": fatal})
            if fatal:
                self._recreate()
            if self._on_failed_topics is not None:
                self._on_failed_topics(failed_topics)
            if self._abort.wait(min(5.0, 0.2 * attempt)):
                raise DeliveryAborted("stop requested while retrying delivery")
            metrics.DELIVERY_RETRIES.inc()

    def _produce_all(self, messages, on_delivery) -> None:
        produce = self._producer.produce
        for topic, key, value in messages:
            while True:
                try:
                    produce(topic, value, key, on_delivery=on_delivery)
                    break
                except BufferError:
                    # Local queue full: serve callbacks until there is room.
                    self._producer.poll(0.05)
                    if self._abort.is_set():
                        raise DeliveryAborted("stop requested while the local queue was full")
                except KafkaException as exc:
                    if exc.args and exc.args[0].fatal():
                        self._recreate()
                    else:
                        raise

    def discard_pending(self) -> None:
        """Drop every queued or in-flight message of a batch that was given up."""
        try:
            self._producer.purge()
            self._producer.flush(0)
        except Exception:
            log.exception("purging the producer failed; recreating it")
            self._producer = Producer(self._config)

    def _recreate(self) -> None:
        log.warning("recreating the producer after a fatal error")
        try:
            self._producer.flush(1)
        except Exception:
            pass
        self._producer = Producer(self._config)

    def close(self, timeout: float = 10) -> None:
        self._producer.flush(timeout)
