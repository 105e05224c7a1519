"""The Debezium connector config lives in cdc/connectors/*.json in the exact form Kafka Connect's
REST API accepts (`{"name": ..., "config": {...}}`), so production POSTs the same file to a Connect
cluster. The embedded relay loads that file and overrides only what is local to one machine.

Keys the relay overrides (RELAY_OVERRIDES documents each):
- database.hostname/port/user/password/dbname: from CDC_SOURCE_DATABASE_URL (the file names the
  compose host `postgres` and reads the password from the Connect worker's env config provider);
- slot.name / publication.name: only when CDC_SLOT_NAME / CDC_PUBLICATION_NAME are set (tests and
  benchmarks run beside the stack with their own slot);
- offset.storage*, offset.flush.interval.ms, bootstrap.servers: worker-level settings in Kafka
  Connect; the embedded engine needs them per engine. Offsets go to a local file named after the
  slot and the broker epoch, so a broker that lost its topics (new epoch) also means no offsets
  (see broker_epoch.py). A file, not a topic on the broker: the engine writes its offsets on the
  thread that polls the connector, and a broker round trip there stalled the stream every flush
  (30-240 ms once a second on this machine, ADR 0003);
- converter.*: the embedded JSON format reads `converter.schemas.enable`, Connect reads the
  key./value.converter keys; the value is taken from the file's value.converter.schemas.enable;
- topic.creation.*: Connect-only keys; the relay reads topic.creation.default.partitions (or
  CDC_TOPIC_PARTITIONS when set) and creates its topics itself at the start of every broker epoch
  (cdc/relay/epoch_topics.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

RELAY_OVERRIDES = {
    "database.hostname": "host of CDC_SOURCE_DATABASE_URL",
    "database.port": "port of CDC_SOURCE_DATABASE_URL",
    "database.user": "user of CDC_SOURCE_DATABASE_URL",
    "database.password": "password of CDC_SOURCE_DATABASE_URL (empty for trust auth)",
    "database.dbname": "database of CDC_SOURCE_DATABASE_URL",
    "slot.name": "CDC_SLOT_NAME when set",
    "publication.name": "CDC_PUBLICATION_NAME when set",
    "offset.storage": "FileOffsetBackingStore (Connect: worker offset.storage.topic)",
    "offset.storage.file.filename": "CDC_STATE_DIR/offsets/<slot>.<epoch>.dat",
    "offset.flush.interval.ms": "1000 (Connect worker default is 60000)",
    "offset.flush.timeout.ms": "10000",
    "bootstrap.servers": "KAFKA_BOOTSTRAP_SERVERS",
    "converter.schemas.enable": "value.converter.schemas.enable of the file",
    "topic.creation.*": "dropped from the engine's properties; the relay creates the topics itself "
                        "(default.partitions, or CDC_TOPIC_PARTITIONS when set) at every epoch start",
}


@dataclass(frozen=True)
class ConnectorConfig:
    name: str
    config: dict[str, str]

    @classmethod
    def load(cls, path: Path | str) -> "ConnectorConfig":
        document = json.loads(Path(path).read_text())
        if set(document) != {"name", "config"}:
            raise ValueError(f"{path}: a Kafka Connect connector document has exactly 'name' and 'config'")
        return cls(document["name"], {k: str(v) for k, v in document["config"].items()})

    # -- what the file says -----------------------------------------------------------------
    @property
    def topic_prefix(self) -> str:
        return self.config["topic.prefix"]

    @property
    def slot_name(self) -> str:
        return self.config["slot.name"]

    @property
    def publication_name(self) -> str:
        return self.config["publication.name"]

    @property
    def signal_table(self) -> str:
        return self.config["signal.data.collection"]

    @property
    def tables(self) -> list[str]:
        """Every captured table as schema.table (the publication holds exactly these)."""
        return [t.strip() for t in self.config["table.include.list"].split(",") if t.strip()]

    @property
    def data_tables(self) -> list[str]:
        """Captured tables that carry domain data (the cdc.* bookkeeping tables excluded)."""
        return [t for t in self.tables if not t.startswith("cdc.")]

    @property
    def excluded_columns(self) -> list[str]:
        return [c.strip() for c in self.config.get("column.exclude.list", "").split(",") if c.strip()]

    def topic_for(self, table: str) -> str:
        """schema.table -> topic (Debezium's default topic naming: <prefix>.<schema>.<table>)."""
        if "." not in table:
            table = f"public.{table}"
        return f"{self.topic_prefix}.{table}"

    def offsets_file(self, state_dir: Path, epoch: str) -> Path:
        """Where the embedded engine keeps its offsets in one broker epoch."""
        return state_dir / "offsets" / f"{self.slot_name}.{epoch}.dat"

    @property
    def epoch_topic(self) -> str:
        return f"{self.topic_prefix}.relay-epoch"

    @property
    def heartbeat_topic(self) -> str:
        return f"__debezium-heartbeat.{self.topic_prefix}"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.topic_prefix}.dlq"

    # -- what the relay runs -----------------------------------------------------------------
    def with_overrides(self, *, slot_name: str = "", publication_name: str = "") -> "ConnectorConfig":
        config = dict(self.config)
        if slot_name:
            config["slot.name"] = slot_name
        if publication_name:
            config["publication.name"] = publication_name
        return ConnectorConfig(self.name, config)

    def embedded_properties(self, database_url: str, bootstrap_servers: str, offsets_file: Path) -> dict[str, str]:
        """Properties for the Debezium embedded engine: the file plus the local overrides above."""
        props = {k: v for k, v in self.config.items() if not k.startswith("topic.creation.")}
        props.update(database_properties(database_url))
        schemas = props.get("value.converter.schemas.enable", "false")
        props.update({
            "name": self.name,
            "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
            "offset.storage.file.filename": str(offsets_file),
            "offset.flush.interval.ms": "1000",
            "offset.flush.timeout.ms": "10000",
            "bootstrap.servers": bootstrap_servers,
            "converter.schemas.enable": schemas,
        })
        return props


def remove_offsets_files(state_dir: Path, slot: str) -> int:
    """Delete a slot's offsets files (every epoch): without its slot they describe nothing, and a
    new slot of the same name must not resume from them."""
    removed = 0
    for path in (state_dir / "offsets").glob(f"{slot}.*.dat"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def database_properties(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        "database.hostname": parts.hostname or "127.0.0.1",
        "database.port": str(parts.port or 5432),
        "database.user": unquote(parts.username or "postgres"),
        "database.password": unquote(parts.password or ""),
        "database.dbname": parts.path.lstrip("/") or "postgres",
    }
