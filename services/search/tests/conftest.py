"""Fixtures: a replica on SQLite, every available search backend, the indexer, and the HTTP app
with the CDC feed switched off (the CDC path has its own end-to-end tests)."""
from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from services.search.apply_change import SearchIndexer
from services.search.app import build_app
from services.search.replica import Replica
from services.search.settings import SearchSettings
from services.search.tantivy_backend import TantivyBackend
from services.search.tests import source_rows

BACKENDS = ["tantivy", "elasticsearch"]


def make_backend(name: str, tmp_path):
    if name == "tantivy":
        return TantivyBackend(tmp_path / "index")
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip("Elasticsearch contract: set ELASTICSEARCH_URL to a cluster to run it "
                    "(no Elasticsearch server can run on this machine; the client code is covered by "
                    "test_elasticsearch_backend.py against a recording stub)")
    from services.search.elasticsearch_backend import ElasticsearchBackend

    return ElasticsearchBackend.from_url(url, f"vobe-test-{os.getpid()}-{tmp_path.name[-20:].lower()}")


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    engine = make_backend(request.param, tmp_path)
    engine.open()
    yield engine
    engine.close()
    if request.param == "elasticsearch":
        engine.drop_everything()


@pytest.fixture
def replica(tmp_path):
    store = Replica(f"sqlite:///{tmp_path / 'replica.sqlite3'}")
    store.create_schema()
    return store


@pytest.fixture
def indexer(replica, backend):
    return SearchIndexer(replica, backend)


@pytest.fixture
def loaded(indexer):
    indexer.apply(source_rows.catalog())
    return indexer


@pytest.fixture
def settings(tmp_path):
    return SearchSettings(database_url=f"sqlite:///{tmp_path / 'replica.sqlite3'}", index_dir=tmp_path / "index",
                          consume_cdc=False)


@pytest.fixture
def client(loaded, settings):
    app = build_app(settings, backend=loaded.backend, replica=loaded.replica)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
