"""The Elasticsearch backend's requests, as the official client sends them, checked against a
recording stub (no Elasticsearch server can run here; the live contract runs in
test_backend_contract.py when ELASTICSEARCH_URL is set)."""
from __future__ import annotations

import pytest

from services.search.elasticsearch_backend import ElasticsearchBackend, search_body
from services.search.index_backend import SearchRequest
from services.search.tests.es_stub import ElasticsearchStub
from services.search.tests.test_backend_contract import track_doc


@pytest.fixture
def stub():
    with ElasticsearchStub() as running:
        yield running


@pytest.fixture
def es(stub):
    backend = ElasticsearchBackend.from_url(stub.url, "vobe")
    backend.open()
    yield backend
    backend.close()


def test_open_creates_one_index_per_kind_behind_aliases(stub, es):
    assert stub.state.aliases == {f"vobe-{k}": f"vobe-{k}-gen-000001" for k in ("track", "artist", "album", "post")}
    track_index = stub.state.indices["vobe-track-gen-000001"]["body"]
    analysis = track_index["settings"]["index"]["analysis"]
    assert analysis["analyzer"]["vobe_text"]["filter"] == ["vobe_long", "lowercase", "asciifolding"]
    properties = track_index["mappings"]["properties"]
    assert properties["title"]["copy_to"] == ["all_text", "all_prefixes"]
    assert properties["suggest"] == {"type": "text", "analyzer": "vobe_prefix", "search_analyzer": "vobe_text"}
    assert properties["source"] == {"type": "object", "enabled": False}
    assert properties["genre_slug"] == {"type": "keyword"} and properties["year"] == {"type": "long"}


def test_opening_again_reuses_the_live_generation(stub, es):
    again = ElasticsearchBackend.from_url(stub.url, "vobe")
    created = len(stub.state.find("PUT", "gen-000001"))
    again.open()
    assert len(stub.state.find("PUT", "gen-000001")) == created
    assert again.generation() == ("gen-000001", 0)


def test_apply_is_one_bulk_request_that_waits_for_searchability(stub, es):
    es.apply([track_doc(1, "Hunter")], {"track": [9], "post": [3]})
    [bulk] = stub.state.find("PUT", "_bulk") + stub.state.find("POST", "_bulk")
    assert bulk.params["refresh"] == ["wait_for"]
    ops = bulk.body
    assert ops[0] == {"index": {"_index": "vobe-track", "_id": "1"}}
    assert ops[1]["title"] == "Hunter" and ops[1]["artist_name"] == "Björk" and ops[1]["source"]["id"] == 1
    assert ops[1]["suggest"] == "Hunter" and ops[1]["popularity"] == 10 and ops[1]["year"] == 1997
    assert ops[2:] == [{"delete": {"_index": "vobe-track", "_id": "9"}}, {"delete": {"_index": "vobe-post", "_id": "3"}}]


def test_search_sends_the_engine_neutral_query(stub, es):
    stub.state.search_hits = [{"id": 1, "title": "Hunter"}]
    page = es.search(SearchRequest("track", ("hunter", "bjo"), integer_ranges={"year": (1990, None)},
                                   keyword_equals={"genre_slug": "rock"}, offset=20, limit=10))
    assert page.count == 1 and page.hits == [{"id": 1, "title": "Hunter"}]
    [request] = stub.state.find("POST", "vobe-track/_search")
    assert request.body["from"] == 20 and request.body["size"] == 10 and request.body["track_total_hits"] is True
    scored = request.body["query"]["function_score"]
    assert scored["field_value_factor"]["modifier"] == "ln2p"
    words = scored["query"]["bool"]["must"]
    hunter, bjo = (w["bool"]["should"] for w in words)
    assert {"constant_score": {"filter": {"fuzzy": {"all_text": {"value": "hunter", "fuzziness": 1}}}, "boost": 0.5}} in hunter
    assert not any("all_prefixes" in str(clause) for clause in hunter)    # only the last word is a prefix
    assert {"constant_score": {"filter": {"term": {"all_prefixes": "bjo"}}, "boost": 0.4}} in bjo
    assert scored["query"]["bool"]["filter"] == [{"range": {"year": {"gte": 1990}}}, {"term": {"genre_slug": "rock"}}]


def test_queries_without_popularity_are_plain_bool():
    body = search_body(SearchRequest("artist", ("radiohead",)))
    assert "bool" in body["query"] and body["sort"] == ["_score", {"id": "asc"}]


def test_suggest_falls_back_to_fuzzy(stub, es):
    assert es.suggest("artist", ("radiohaed",), 5) == []
    exact, fuzzy = stub.state.find("POST", "vobe-artist/_search")
    assert exact.body["query"] == {"bool": {"must": [{"term": {"suggest": "radiohaed"}}]}}
    assert fuzzy.body["query"]["bool"]["must"] == [{"fuzzy": {"suggest": {"value": "radiohaed", "fuzziness": 2}}}]
    assert exact.body["sort"] == ["_score", {"id": "asc"}]


def test_track_suggestions_are_the_most_popular_first(stub, es):
    es.suggest("track", ("hun",), 5)
    exact = stub.state.find("POST", "vobe-track/_search")[0]
    assert exact.body["query"] == {"bool": {"must": [{"term": {"suggest": "hun"}}]}}
    assert exact.body["sort"] == [{"popularity": "desc"}, {"id": "asc"}]


def test_rebuild_bulk_loads_new_indices_and_swaps_every_alias_at_once(stub, es):
    rebuild = es.begin_rebuild()
    assert stub.state.indices["vobe-track-gen-000002"]["body"]["settings"]["index"]["refresh_interval"] == "-1"
    rebuild.add([track_doc(1, "Hunter")])
    assert rebuild.publish(built_from_seq=7) == "gen-000002"
    swap = stub.state.find("POST", "_aliases")[-1].body["actions"]
    assert {"remove": {"index": "vobe-track-gen-000001", "alias": "vobe-track"}} in swap
    assert {"add": {"index": "vobe-post-gen-000002", "alias": "vobe-post"}} in swap
    assert len(swap) == 8
    assert "vobe-track-gen-000001" not in stub.state.indices  # the old generation is dropped
    assert es.follow_generation() == 7 and es.follow_generation() is None


def test_abandon_drops_the_new_indices(stub, es):
    es.begin_rebuild().abandon()
    assert sorted(stub.state.indices) == sorted(f"vobe-{k}-gen-000001" for k in ("track", "artist", "album", "post"))


def test_suggest_over_http_runs_the_network_client_off_the_event_loop(stub, es, tmp_path):
    import threading

    from fastapi.testclient import TestClient

    from services.search.app import build_app
    from services.search.replica import Replica
    from services.search.settings import SearchSettings

    threads = []
    original = es.suggest
    es.suggest = lambda *args: threads.append(threading.current_thread()) or original(*args)
    settings = SearchSettings(database_url=f"sqlite:///{tmp_path / 'replica.sqlite3'}", consume_cdc=False)
    with TestClient(build_app(settings, backend=es, replica=Replica(settings.database_url))) as client:
        loop_thread = client.portal.call(threading.current_thread)
        response = client.get("/api/v1/search/suggest/", params={"q": "hun"})
    assert response.json() == {"query": "hun", "suggestions": []}
    assert threads and all(thread is not loop_thread for thread in threads)
    assert len(stub.state.find("POST", "vobe-artist/_search")) == 2  # prefix, then typo-tolerant
