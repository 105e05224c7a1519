"""docker-compose.yml is the production-like topology: every process the local stack runs has a
service there, and Postgres is configured for logical decoding so Debezium can stream from it."""
import re
from pathlib import Path
from urllib.parse import urlsplit

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


def _waits_for(service: str) -> set[str]:
    """Every service `service` waits for, directly or through the services it waits for."""
    seen, todo = set(), [service]
    while todo:
        for dependency in COMPOSE["services"][todo.pop()].get("depends_on") or {}:
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return seen


def test_each_service_database_is_created_before_the_service_starts():
    # The postgres image creates only POSTGRES_DB; a database per service (ADR 0002) needs a one-shot.
    services = COMPOSE["services"]
    default_database = services["postgres"]["environment"]["POSTGRES_DB"]
    checked = 0
    for name, service in services.items():
        for variable, url in (service.get("environment") or {}).items():
            if not variable.endswith("_DATABASE_URL") or variable == "MONOLITH_DATABASE_URL":
                continue
            database = urlsplit(url).path.lstrip("/")
            if database == default_database:
                continue
            commands = {other: " ".join(services[other].get("command") or []) for other in _waits_for(name)}
            creators = [other for other, command in commands.items()
                        if "CREATE DATABASE" in command and re.search(rf"\b{database}\b", command)]
            assert creators, f"{name}: nothing it waits for creates database {database!r}"
            checked += 1
    assert checked >= 2  # catalog and search at least
