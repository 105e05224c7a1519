"""The topics the relay writes, created by the relay itself at the start of every broker epoch.

The relay's producer never lets the broker auto-create a topic (`allow.auto.create.topics=false`).
That is what keeps a broker epoch whole: after the memory-only broker restarts, the engine of the
old epoch may still hand over a few batches before the relay notices the lost epoch marker. With
auto-creation those batches landed in fresh topics on the empty broker, the new epoch's snapshot
was appended behind them, and consumers re-reading from offset 0 applied a piece of old stream
whose continuation (a later delete, say) was never delivered: the snapshot cannot retract a row it
does not contain. Without auto-creation those deliveries fail (the topics do not exist), the
batch stays unprocessed, and the new epoch's topics hold only its own snapshot and stream.

A fresh epoch also starts from empty topics where the broker kept them (a real Kafka cluster that
lost only the marker): consumers re-read every partition from offset 0 in a new epoch, and a
snapshot behind an old, incomplete stream would leave the same stale rows."""
from __future__ import annotations

import logging

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from cdc.connector_config import ConnectorConfig

log = logging.getLogger("cdc.relay.topics")

DEFAULT_PARTITIONS = 4      # what Tansu gives an auto-created topic; the connector file says the same


class EpochTopics:
    def __init__(self, bootstrap_servers: str, connector: ConnectorConfig, partitions: int | None = None):
        """`partitions` overrides the connector file's topic.creation.default.partitions."""
        self.connector = connector
        self._partitions = partitions
        self._admin = AdminClient({"bootstrap.servers": bootstrap_servers, "socket.timeout.ms": 5000})

    @property
    def names(self) -> list[str]:
        """Every topic the connector writes: one per captured table (bookkeeping tables included)
        and Debezium's heartbeat topic."""
        return [self.connector.topic_for(t) for t in self.connector.tables] + [self.connector.heartbeat_topic]

    @property
    def partitions(self) -> int:
        if self._partitions is not None:
            return self._partitions
        return int(self.connector.config.get("topic.creation.default.partitions", DEFAULT_PARTITIONS))

    def existing(self, timeout: float = 10) -> set[str]:
        return set(self._admin.list_topics(timeout=timeout).topics)

    def create(self, names=None, timeout: float = 15) -> list[str]:
        """Create the missing ones of `names` (default: all); returns what was created."""
        missing = sorted(set(names or self.names) - self.existing())
        if not missing:
            return []
        futures = self._admin.create_topics(
            [NewTopic(name, num_partitions=self.partitions, replication_factor=-1) for name in missing])
        _wait_all(futures, timeout, tolerated="TOPIC_ALREADY_EXISTS")
        log.info("topics created", extra={"topics": missing})
        return missing

    def wipe(self, timeout: float = 15) -> list[str]:
        """Delete the connector's topics that exist (a fresh epoch starts from empty topics)."""
        present = sorted(set(self.names) & self.existing())
        if not present:
            return []
        _wait_all(self._admin.delete_topics(present, operation_timeout=timeout), timeout, tolerated="UNKNOWN_TOPIC")
        log.warning("topics of the previous epoch deleted", extra={"topics": present})
        return present


def _wait_all(futures: dict, timeout: float, tolerated: str) -> None:
    """Wait for every admin operation; an error naming `tolerated` means it was already done."""
    for future in futures.values():
        try:
            future.result(timeout)
        except KafkaException as exc:
            if tolerated not in str(exc):
                raise
