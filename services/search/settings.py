"""The search service's settings: environment variables with working defaults for the local stack."""
from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field

from services.common.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]


def sync_url(url: str) -> str:
    """The replica is written from the apply thread with a sync engine; accept the async spelling too."""
    return url.replace("+asyncpg", "+psycopg").replace("sqlite+aiosqlite", "sqlite")


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class SearchSettings(ServiceSettings):
    service_name: str = "search"
    # The replica of the rows documents are built from (database per service); SQLite works too.
    database_url: str = Field("postgresql+psycopg://postgres@127.0.0.1:55432/search",
                              validation_alias=_env("SEARCH_DATABASE_URL", "database_url"))

    backend: str = Field("tantivy", validation_alias=_env("SEARCH_BACKEND", "backend"))
    index_dir: Path = Field(ROOT / ".stack" / "run" / "search-index", validation_alias=_env("SEARCH_INDEX_DIR", "index_dir"))
    elasticsearch_url: str = Field("", validation_alias=_env("ELASTICSEARCH_URL", "elasticsearch_url"))
    elasticsearch_index_prefix: str = Field("vobe-search", validation_alias=_env("SEARCH_ES_INDEX_PREFIX", "elasticsearch_index_prefix"))

    # CDC: consume the monolith's topics (set false to run on a snapshot-built index only).
    consume_cdc: bool = Field(True, validation_alias=_env("SEARCH_CONSUME_CDC", "consume_cdc"))
    kafka_bootstrap_servers: str = Field("127.0.0.1:59092", validation_alias=_env("KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"))
    topic_prefix: str = Field("vobe", validation_alias=_env("CDC_TOPIC_PREFIX", "topic_prefix"))
    consumer_group: str = Field("search", validation_alias=_env("SEARCH_CONSUMER_GROUP", "consumer_group"))
