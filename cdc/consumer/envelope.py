"""Decoding Debezium change events (JSON converter, schemas disabled) from Kafka messages.

value = {"before": {...}|null, "after": {...}|null, "source": {..., "lsn", "ts_ms", "snapshot",
"schema", "table", "txId"}, "op": "c"|"r"|"u"|"d", "ts_ms": ...}; key = the primary key columns.
A delete is followed by a tombstone (same key, null value) so log compaction can drop the key."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

OPS = {"c", "r", "u", "d"}


class PoisonEvent(Exception):
    """An event that can never be applied as it is; it goes to the dead-letter topic."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class ChangeEvent:
    topic: str
    partition: int
    offset: int
    key: dict | None
    op: str                      # c, r, u, d, or "tombstone"
    before: dict | None
    after: dict | None
    lsn: int | None
    source_ts_ms: int | None
    snapshot: str | None
    table: str | None            # schema.table from source
    tx_id: int | None
    message: Any = None          # the confluent_kafka Message, kept for the dead-letter topic

    @property
    def row(self) -> dict | None:
        """The row image that matters: after for c/r/u, before for d."""
        return self.before if self.op == "d" else self.after

    @property
    def is_tombstone(self) -> bool:
        return self.op == "tombstone"


def decode_message(message) -> ChangeEvent:
    return decode(message.topic(), message.partition(), message.offset(), message.key(), message.value(), message)


def decode(topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, message=None) -> ChangeEvent:
    try:
        key_doc = orjson.loads(key) if key else None
    except orjson.JSONDecodeError as exc:
        raise PoisonEvent("key-not-json", str(exc)) from exc
    if value is None:
        return ChangeEvent(topic, partition, offset, key_doc, "tombstone", None, None, None, None, None, None, None, message)
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise PoisonEvent("value-not-json", str(exc)) from exc
    if not isinstance(doc, dict):
        raise PoisonEvent("not-an-envelope", f"value is a JSON {type(doc).__name__}")
    if "payload" in doc and "schema" in doc:   # a converter with schemas.enable=true
        doc = doc["payload"]
    op = doc.get("op")
    if op not in OPS:
        raise PoisonEvent("unknown-op", repr(op))
    before, after = doc.get("before"), doc.get("after")
    if op in ("c", "r", "u") and not isinstance(after, dict):
        raise PoisonEvent("missing-after", f"op={op}")
    if op == "d" and not isinstance(before, dict):
        raise PoisonEvent("missing-before", "op=d")
    source = doc.get("source") or {}
    lsn = source.get("lsn")
    if lsn is not None and not isinstance(lsn, int):
        raise PoisonEvent("bad-lsn", repr(lsn))
    table = f"{source['schema']}.{source['table']}" if source.get("schema") and source.get("table") else None
    return ChangeEvent(topic, partition, offset, key_doc, op, before, after, lsn, source.get("ts_ms"),
                       source.get("snapshot"), table, source.get("txId"), message)
