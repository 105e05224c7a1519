"""Fixtures for a carved domain's tests on the real pieces: the session's Postgres cluster
(tests/support/postgres_plugin.py), a Tansu broker and the Debezium relay (cdc/tests/conftest.py),
a monolith database with demo data, the service's database (migrated, snapshot copy) and the
service as `python -m <run module>`; per test the monolith (gunicorn) and the proxy.

A domain's conftest imports these and names the domain once:

    from tests.carve_kit.fixtures import *  # noqa: F401,F403
    from tests.carve_kit.service import CarvedDomain

    @pytest.fixture(scope="session")
    def carved():
        return CarvedDomain("services.catalog.domain", run="services.catalog.run")

The relay fixture of cdc/tests streams `source_url`; here `source_url` is the monolith database
with demo data, so the relay and the service see the same monolith."""
from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from cdc.tests.conftest import broker, cdc_workdir, relay, run_id  # noqa: F401  (reused fixtures)
from proxy.tests.conftest import RunningProxy
from tests.carve_kit.proxy import start_proxy
from tests.carve_kit.service import CarvedDomain, CarvedService, drop_database, monolith_database, service_database
from tests.parity import processes

__all__ = ["broker", "cdc_workdir", "relay", "run_id", "source_url", "carved_database", "carved_service",
           "monolith", "carve_stack"]

DEMO_TRACKS = int(os.environ.get("LIFECYCLE_TRACKS", "300"))


@pytest.fixture(scope="session")
def source_url(pg_port, run_id):  # noqa: F811  (replaces cdc/tests' empty source database)
    """The monolith's database: migrated, with the deterministic demo data."""
    url = monolith_database(pg_port, f"carve_monolith_{run_id}", DEMO_TRACKS)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def carved_database(carved, pg_port, run_id, source_url):  # noqa: F811
    url = service_database(carved, pg_port, f"carve_{carved.name}_{run_id}", source_url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def carved_service(carved: CarvedDomain, carved_database, source_url, relay, broker, tmp_path_factory):  # noqa: F811
    service = CarvedService(carved, database_url=carved_database, monolith_url=source_url,
                            bootstrap=broker.bootstrap, log_dir=tmp_path_factory.mktemp(f"{carved.name}-logs"))
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def monolith(source_url, tmp_path):
    server = processes.start_monolith(source_url, tmp_path, workers=1, threads=4)
    yield server
    server.stop()


@dataclass
class CarveStack:
    carved: CarvedDomain
    monolith_url: str               # the monolith's database
    monolith: processes.Server      # the monolith's HTTP server
    service: CarvedService
    proxy: RunningProxy


@pytest.fixture
def carve_stack(carved, source_url, monolith, carved_service, tmp_path):
    proxy = start_proxy(monolith.url, {f"{carved.env_prefix}_URL": carved_service.url}, tmp_path)
    try:
        yield CarveStack(carved, source_url, monolith, carved_service, proxy)
    finally:
        proxy.process.stop()
