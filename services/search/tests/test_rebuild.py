"""The one-command rebuild, and what happens to an index built by another schema version."""
from __future__ import annotations

import json

import pytest

from services.search import rebuild
from services.search.tantivy_backend import IncompatibleIndex, TantivyBackend, live_generation_compatible, read_pointer
from services.search.tests import source_rows


@pytest.fixture
def environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCH_DATABASE_URL", f"sqlite:///{tmp_path / 'replica.sqlite3'}")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "index"))
    return tmp_path


def _fill_replica(tmp_path):
    from services.search.apply_change import SearchIndexer
    from services.search.replica import Replica

    replica = Replica(f"sqlite:///{tmp_path / 'replica.sqlite3'}")
    replica.create_schema()
    SearchIndexer(replica, backend=None).apply(source_rows.catalog(), update_index=False)


def test_rebuild_from_the_replica_publishes_a_searchable_generation(environment):
    _fill_replica(environment)
    assert rebuild.main(["--no-progress"]) == 0
    backend = TantivyBackend(environment / "index")
    backend.open()
    assert backend.count("track") == 10 and backend.count("post") == 2  # the draft is not indexed
    backend.close()


def test_if_needed_skips_a_usable_index_and_rebuilds_an_incompatible_one(environment):
    _fill_replica(environment)
    rebuild.main(["--no-progress"])
    first = read_pointer(environment / "index")
    assert rebuild.main(["--if-needed", "--no-progress"]) == 0
    assert read_pointer(environment / "index") == first

    meta_file = environment / "index" / first / "generation.json"
    meta_file.write_text(json.dumps({**json.loads(meta_file.read_text()), "schema_version": 1}))
    assert not live_generation_compatible(environment / "index")
    with pytest.raises(IncompatibleIndex, match="rebuild --if-needed"):
        TantivyBackend(environment / "index").open()
    assert rebuild.main(["--if-needed", "--no-progress"]) == 0
    assert read_pointer(environment / "index") != first
    assert live_generation_compatible(environment / "index")
