"""Settings every carved service has on top of ServiceSettings: its own database, the monolith's
(the reverse sync's target and the snapshot's source), the CDC consumer's, and the outbox's.

`carve_settings("catalog")` gives the class with the domain's own variable names
(CATALOG_DATABASE_URL, CATALOG_CDC_GROUP, CATALOG_OUTBOX_RETENTION_HOURS); the rest are shared
(MONOLITH_DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, CDC_TOPIC_PREFIX)."""
from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, create_model

from services.common.settings import ServiceSettings

LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:55432"


class CarveSettings(ServiceSettings):
    monolith_database_url: str = Field(
        "postgresql://postgres@127.0.0.1:55432/vobemusic",
        validation_alias=AliasChoices("MONOLITH_DATABASE_URL", "monolith_database_url"))
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:59092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"))
    cdc_topic_prefix: str = Field("vobe", validation_alias=AliasChoices("CDC_TOPIC_PREFIX", "cdc_topic_prefix"))
    cdc_group: str = "service"
    # Replayed outbox entries are kept this long (audits, tracing a row's history), then deleted;
    # pending entries never are.
    outbox_retention_hours: float = Field(168, ge=0)
    # How long a write-ownership handover waits for the replica to catch up before it refuses.
    catch_up_timeout_seconds: float = Field(
        60, gt=0, validation_alias=AliasChoices("CARVE_CATCH_UP_TIMEOUT_SECONDS", "catch_up_timeout_seconds"))


def carve_settings(domain: str, base: type[CarveSettings] = CarveSettings, **fields) -> type[CarveSettings]:
    """The settings class of one domain's service; `fields` adds the service's own settings."""
    upper = domain.upper()
    own: dict[str, Any] = {
        "service_name": (str, domain),
        "database_url": (str, Field(f"{LOCAL_PG}/{domain}",
                                    validation_alias=AliasChoices(f"{upper}_DATABASE_URL", "database_url"))),
        "cdc_group": (str, Field(f"{domain}-service", validation_alias=AliasChoices(f"{upper}_CDC_GROUP", "cdc_group"))),
        "outbox_retention_hours": (float, Field(168, ge=0, validation_alias=AliasChoices(
            f"{upper}_OUTBOX_RETENTION_HOURS", "outbox_retention_hours"))),
    }
    return create_model(f"{domain.title()}Settings", __base__=base, **own, **fields)
