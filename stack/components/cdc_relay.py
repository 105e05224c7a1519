"""The CDC relay: Debezium's Postgres connector (embedded, JPype) -> the broker.

Streams the monolith's tables into `vobe.public.<table>` topics; /healthz, /readyz, /metrics and
/status on the relay port. Keeps its replication slot (vobe_cdc) across restarts on purpose."""
from __future__ import annotations

import os

from stack.component import Component
from stack.components.monolith import DATABASE
from stack.readiness import http_ok
from stack.settings import StackSettings


def relay_env(settings: StackSettings) -> dict[str, str]:
    return {
        "CDC_SOURCE_DATABASE_URL": settings.database_url(DATABASE),
        "KAFKA_BOOTSTRAP_SERVERS": f"{settings.host}:{settings.broker_port}",
        "CDC_RELAY_HOST": settings.host,
        "CDC_RELAY_PORT": str(settings.relay_port),
        # One partition per topic on the embedded single-node broker: Tansu's CPU per event grows
        # with the partitions consumers fetch (ADR 0003), and one machine gains nothing from more.
        # Kafka Connect in production keeps the connector file's topic.creation.default.partitions.
        "CDC_TOPIC_PARTITIONS": os.environ.get("CDC_TOPIC_PARTITIONS", "1"),
        "PYTHONPATH": str(settings.root),
    }


def component(settings: StackSettings) -> Component:
    base = settings.http_url(settings.relay_port)
    return Component(
        name="cdc-relay",
        command=[settings.python, "-m", "cdc.relay"],
        env=relay_env(settings),
        cwd=settings.root,
        ready=http_ok(base + "/readyz"),
        urls={"cdc relay status": base + "/status", "cdc relay metrics": base + "/metrics"},
        # SIGTERM: the relay closes the engine (offsets committed, slot released) before exiting.
        stop_signal="TERM",
        stop_wait_secs=45,
        start_timeout=180,   # JVM start + first snapshot of the monolith's tables
    )
