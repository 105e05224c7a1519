"""docker-compose.yml is the production-like topology: every process the local stack runs has a
service there, and Postgres is configured for logical decoding so Debezium can stream from it."""
from pathlib import Path

import yaml

from stack.components import all_components
from stack.settings import StackSettings

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[1] / "docker-compose.yml").read_text())
# Local process name -> the compose service that plays its part.
LOCAL_TO_COMPOSE = {"broker": "kafka", "cdc-relay": "kafka-connect"}


def test_every_stack_component_has_a_compose_service():
    services = set(COMPOSE["services"])
    for component in all_components(StackSettings()):
        assert LOCAL_TO_COMPOSE.get(component.name, component.name) in services, component.name


def test_postgres_uses_logical_wal():
    command = COMPOSE["services"]["postgres"]["command"]
    assert "wal_level=logical" in command


def test_secrets_are_required_not_defaulted():
    monolith_env = COMPOSE["services"]["monolith"]["environment"]
    assert "?" in monolith_env["JWT_SIGNING_KEY"] and "?" in monolith_env["DJANGO_SECRET_KEY"]
