"""Environment-driven settings shared by the relay, the consumer runtime and the CLI.

Defaults match the local stack (stack/settings.py ports); production sets the variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

CDC_DIR = Path(__file__).resolve().parent
DEFAULT_CONNECTOR_FILE = CDC_DIR / "connectors" / "monolith-postgres.json"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _optional_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


@dataclass(frozen=True)
class CdcSettings:
    source_database_url: str = field(default_factory=lambda: _env(
        "CDC_SOURCE_DATABASE_URL",
        _env("MONOLITH_DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/vobemusic")))
    bootstrap_servers: str = field(default_factory=lambda: _env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092"))
    connector_file: Path = field(default_factory=lambda: Path(_env("CDC_CONNECTOR_FILE", str(DEFAULT_CONNECTOR_FILE))))
    # Local overrides of connector keys (empty = keep the file's value); tests use unique slots.
    slot_name: str = field(default_factory=lambda: _env("CDC_SLOT_NAME", ""))
    publication_name: str = field(default_factory=lambda: _env("CDC_PUBLICATION_NAME", ""))
    relay_host: str = field(default_factory=lambda: _env("CDC_RELAY_HOST", "127.0.0.1"))
    relay_port: int = field(default_factory=lambda: int(_env("CDC_RELAY_PORT", "8091")))
    # How often the relay checks that the broker still holds its epoch marker (see broker_epoch.py).
    broker_check_secs: float = field(default_factory=lambda: float(_env("CDC_BROKER_CHECK_SECS", "2")))
    # Partitions of the topics the relay creates (empty = the connector file's
    # topic.creation.default.partitions; the local stack sets 1). Tansu's CPU per fetch grows with
    # the partitions a consumer reads; see ADR 0003 for what one partition per topic saves.
    topic_partitions: int | None = field(default_factory=lambda: _optional_int("CDC_TOPIC_PARTITIONS"))
    state_dir: Path = field(default_factory=lambda: Path(_env("CDC_STATE_DIR", str(CDC_DIR.parent / ".stack" / "cdc"))))

    @property
    def relay_url(self) -> str:
        return f"http://{self.relay_host}:{self.relay_port}"
