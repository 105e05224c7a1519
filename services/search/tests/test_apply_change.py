"""Row changes reach the index: denormalised documents follow the rows they embed."""
from __future__ import annotations

from services.search.apply_change import RowChange
from services.search.index_backend import SearchRequest
from services.search.tests import source_rows as rows


def hits(indexer, kind, *terms, **kwargs):
    return indexer.backend.search(SearchRequest(kind, tuple(terms), **kwargs)).hits


def test_catalog_rows_become_documents(loaded):
    [teardrop] = hits(loaded, "track", "teardrop")
    assert teardrop["artist"]["name"] == "Massive Attack"
    assert teardrop["album"]["title"] == "Mezzanine" and teardrop["genre"]["slug"] == "electronic"
    assert [a["name"] for a in hits(loaded, "artist", "radiohead")] == ["Radiohead"]
    assert [a["title"] for a in hits(loaded, "album", "kid", "a")] == ["Kid A"]


def test_renaming_an_artist_reaches_its_tracks_and_albums(loaded):
    loaded.apply([rows.artist(3, "Massive Attack (UK)")])
    assert {t["artist"]["name"] for t in hits(loaded, "track", "massive")} == {"Massive Attack (UK)"}
    assert len(hits(loaded, "track", "uk")) == 3
    assert hits(loaded, "album", "mezzanine")[0]["artist"]["name"] == "Massive Attack (UK)"


def test_renaming_an_album_or_genre_reaches_its_tracks(loaded):
    loaded.apply([rows.album(3, 3, "Mezzanine (Remastered)", "1998-04-20"), rows.genre(1, "Trip Hop", "trip-hop")])
    teardrop = hits(loaded, "track", "teardrop")[0]
    assert teardrop["album"]["title"] == "Mezzanine (Remastered)"
    assert teardrop["genre"] == {"id": 1, "name": "Trip Hop", "slug": "trip-hop"}
    assert len(hits(loaded, "track", "teardrop", keyword_equals={"genre_slug": "trip-hop"})) == 1


def test_update_changes_the_hit_and_delete_removes_it(loaded):
    loaded.apply([rows.track(7, 3, "Teardrop (Live)", 3, 1, popularity=91)])
    assert hits(loaded, "track", "teardrop")[0]["title"] == "Teardrop (Live)"
    loaded.apply([rows.deleted(rows.track(7, 3, "x"))])
    assert hits(loaded, "track", "teardrop") == []


def test_an_older_change_never_overwrites_a_newer_one(loaded):
    stale = rows.track(8, 3, "Angel (old title)", 3, 1)
    newer = rows.track(8, 3, "Angel (Remix)", 3, 1)
    loaded.apply([newer])
    loaded.apply([stale])  # replayed / late event with a lower LSN
    assert hits(loaded, "track", "angel")[0]["title"] == "Angel (Remix)"


def test_only_published_posts_are_found_and_authors_are_rendered(loaded):
    [post] = hits(loaded, "post", "teardrop")
    assert post["author"] == {"id": 1, "username": "alice", "display_name": "Alice A."}
    assert hits(loaded, "post", "draft") == []
    loaded.apply([rows.post(2, 2, "Draft about Radiohead", "now public", published=True)])
    assert len(hits(loaded, "post", "draft")) == 1
    loaded.apply([rows.post(1, 1, "Why Teardrop still matters", "unpublished again", published=False)])
    assert hits(loaded, "post", "teardrop") == []


def test_author_renames_and_profile_changes_reach_posts(loaded):
    loaded.apply([rows.profile(2, 2, "Bobby")])
    assert hits(loaded, "post", "kid")[0]["author"]["display_name"] == "Bobby"
    loaded.apply([rows.deleted(rows.profile(2, 2, "x"))])
    assert hits(loaded, "post", "kid")[0]["author"]["display_name"] == "bob"
    loaded.apply([rows.user(2, "robert")])
    assert hits(loaded, "post", "kid")[0]["author"]["username"] == "robert"


def test_a_track_whose_artist_has_not_arrived_appears_when_it_does(indexer):
    indexer.apply([rows.track(50, 99, "Early Bird")])
    assert hits(indexer, "track", "early") == []
    indexer.apply([rows.artist(99, "Late Artist")])
    assert hits(indexer, "track", "early")[0]["artist"]["name"] == "Late Artist"


def test_changes_during_a_rebuild_are_replayed_on_the_new_generation(loaded):
    from services.search.rebuild import rebuild_from_replica

    built = rebuild_from_replica(loaded.replica, loaded.backend, progress=False, publish=False)
    # Changes arriving while the new generation is being built go to the live one and the replica...
    loaded.apply([rows.track(5, 2, "Karma Police (Live)", 2, 2)])
    built.publish()
    loaded.follow_generation()
    # ...and are replayed onto the new generation when the service switches to it.
    assert hits(loaded, "track", "karma")[0]["title"] == "Karma Police (Live)"
    assert len(hits(loaded, "track", "radiohead")) == 4


def test_unknown_tables_are_ignored(loaded):
    assert loaded.apply([RowChange("playlists_playlist", 1, {"id": 1}, 5)]) == 0
