"""docker-compose.yml gives the search service the database its SEARCH_DATABASE_URL names: the
postgres image creates only POSTGRES_DB, so a one-shot must create `search` before the service starts."""
from urllib.parse import urlsplit

import yaml

from services.search.settings import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_search_database_is_created_before_the_service_starts():
    database = urlsplit(SERVICES["search"]["environment"]["SEARCH_DATABASE_URL"]).path.lstrip("/")
    assert database != SERVICES["postgres"]["environment"]["POSTGRES_DB"]
    creators = [name for name, condition in SERVICES["search"]["depends_on"].items()
                if condition == {"condition": "service_completed_successfully"}
                and f"CREATE DATABASE {database}" in " ".join(SERVICES[name].get("command") or [])]
    assert creators, f"no one-shot the search service waits for creates database {database!r}"
    assert SERVICES[creators[0]]["depends_on"]["postgres"] == {"condition": "service_healthy"}
