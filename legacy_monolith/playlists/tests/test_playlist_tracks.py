"""A playlist's ordered tracks: list, add at a position, remove closing the gap, reorder."""
import threading

import pytest
from django.db import connection

from playlists.models import Playlist, PlaylistTrack
from playlists.tests.factories import assert_contiguous, entry_ids, make_playlist
from vobemusic.testing import make_track, make_user

pytestmark = pytest.mark.django_db


def tracks_url(playlist):
    return f"/api/v1/playlists/{playlist.pk}/tracks/"


def reorder_url(playlist):
    return f"/api/v1/playlists/{playlist.pk}/reorder/"


class TestList:
    def test_entries_in_order(self, anon, user):
        playlist = make_playlist(user, tracks=3)
        body = anon.get(tracks_url(playlist)).json()
        assert body["count"] == 3
        assert [r["position"] for r in body["results"]] == [1, 2, 3]
        assert [r["id"] for r in body["results"]] == entry_ids(playlist)
        row = body["results"][0]
        assert set(row) == {"id", "position", "track", "added_at"}
        assert set(row["track"]) == {"id", "title", "artist", "duration_ms", "popularity"}

    def test_paginated(self, anon):
        playlist = make_playlist(tracks=3)
        body = anon.get(tracks_url(playlist), {"page_size": 2}).json()
        assert [r["position"] for r in body["results"]] == [1, 2]
        assert body["next"] == f"http://testserver{tracks_url(playlist)}?page=2&page_size=2"

    def test_private_playlist_tracks_for_owner(self, user_api, user):
        playlist = make_playlist(user, tracks=1, is_public=False)
        assert user_api.get(tracks_url(playlist)).json()["count"] == 1


class TestAdd:
    def test_append_by_default(self, user_api, user):
        playlist = make_playlist(user, tracks=2)
        track = make_track()
        response = user_api.post(tracks_url(playlist), {"track_id": track.pk}, format="json")
        assert response.status_code == 201
        assert response.json()["position"] == 3 and response.json()["track"]["id"] == track.pk
        assert_contiguous(playlist)

    def test_insert_at_position_shifts_the_rest(self, user_api, user):
        playlist = make_playlist(user, tracks=3)
        before = entry_ids(playlist)
        response = user_api.post(tracks_url(playlist), {"track_id": make_track().pk, "position": 2}, format="json")
        assert response.json()["position"] == 2
        assert entry_ids(playlist) == [before[0], response.json()["id"], before[1], before[2]]
        assert_contiguous(playlist)

    def test_insert_at_the_top_and_right_after_the_end(self, user_api, user):
        playlist = make_playlist(user, tracks=2)
        first = user_api.post(tracks_url(playlist), {"track_id": make_track().pk, "position": 1}, format="json")
        last = user_api.post(tracks_url(playlist), {"track_id": make_track().pk, "position": 4}, format="json")
        ids = entry_ids(playlist)
        assert ids[0] == first.json()["id"] and ids[-1] == last.json()["id"]
        assert_contiguous(playlist)

    def test_position_past_the_end(self, user_api, user):
        playlist = make_playlist(user, tracks=2)
        response = user_api.post(tracks_url(playlist), {"track_id": make_track().pk, "position": 4}, format="json")
        assert response.status_code == 400
        assert response.json() == {"position": ["Ensure this value is less than or equal to 3."]}

    def test_validation_errors(self, user_api, user):
        playlist = make_playlist(user)
        response = user_api.post(tracks_url(playlist), {"track_id": 999999, "position": 0}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "track_id": ['Invalid pk "999999" - object does not exist.'],
            "position": ["Ensure this value is greater than or equal to 1."],
        }
        assert user_api.post(tracks_url(playlist), {}, format="json").json() == {
            "track_id": ["This field is required."]
        }

    def test_same_track_twice_is_allowed(self, user_api, user):
        playlist = make_playlist(user)
        track = make_track()
        for _ in range(2):
            assert user_api.post(tracks_url(playlist), {"track_id": track.pk}, format="json").status_code == 201
        assert playlist.entries.filter(track=track).count() == 2

    def test_only_owner_or_admin(self, other_api, admin_api, anon, user):
        playlist = make_playlist(user)
        payload = {"track_id": make_track().pk}
        assert anon.post(tracks_url(playlist), payload, format="json").status_code == 401
        assert other_api.post(tracks_url(playlist), payload, format="json").status_code == 403
        assert admin_api.post(tracks_url(playlist), payload, format="json").status_code == 201

    def test_touches_updated_at(self, user_api, user):
        playlist = make_playlist(user)
        before = Playlist.objects.get(pk=playlist.pk).updated_at
        user_api.post(tracks_url(playlist), {"track_id": make_track().pk}, format="json")
        assert Playlist.objects.get(pk=playlist.pk).updated_at > before


class TestRemove:
    def test_remove_closes_the_gap(self, user_api, user):
        playlist = make_playlist(user, tracks=4)
        ids = entry_ids(playlist)
        response = user_api.delete(f"{tracks_url(playlist)}{ids[1]}/")
        assert response.status_code == 204
        assert entry_ids(playlist) == [ids[0], ids[2], ids[3]]
        assert_contiguous(playlist)

    def test_unknown_or_foreign_entry_is_404(self, user_api, user):
        playlist = make_playlist(user, tracks=1)
        foreign = make_playlist(user, tracks=1)
        for entry in (999999, entry_ids(foreign)[0]):
            response = user_api.delete(f"{tracks_url(playlist)}{entry}/")
            assert response.status_code == 404
            assert response.json() == {"detail": "Not found."}
        assert len(entry_ids(foreign)) == 1

    def test_other_user_gets_403(self, other_api, user):
        playlist = make_playlist(user, tracks=1)
        assert other_api.delete(f"{tracks_url(playlist)}{entry_ids(playlist)[0]}/").status_code == 403
        assert len(entry_ids(playlist)) == 1


class TestReorder:
    def test_move_down(self, user_api, user):
        playlist = make_playlist(user, tracks=4)
        a, b, c, d = entry_ids(playlist)
        response = user_api.post(reorder_url(playlist), {"from_position": 1, "to_position": 3}, format="json")
        assert response.status_code == 200
        assert response.json() == {"entries": [b, c, a, d]}
        assert entry_ids(playlist) == [b, c, a, d]
        assert_contiguous(playlist)

    def test_move_up(self, user_api, user):
        playlist = make_playlist(user, tracks=4)
        a, b, c, d = entry_ids(playlist)
        user_api.post(reorder_url(playlist), {"from_position": 4, "to_position": 2}, format="json")
        assert entry_ids(playlist) == [a, d, b, c]
        assert_contiguous(playlist)

    def test_move_to_same_place(self, user_api, user):
        playlist = make_playlist(user, tracks=2)
        ids = entry_ids(playlist)
        assert user_api.post(reorder_url(playlist), {"from_position": 2, "to_position": 2}, format="json").json() == {
            "entries": ids
        }

    def test_move_out_of_range(self, user_api, user):
        playlist = make_playlist(user, tracks=3)
        response = user_api.post(reorder_url(playlist), {"from_position": 4, "to_position": 1}, format="json")
        assert response.status_code == 400
        assert response.json() == {"from_position": ["Ensure this value is less than or equal to 3."]}

    def test_full_permutation(self, user_api, user):
        playlist = make_playlist(user, tracks=4)
        new_order = list(reversed(entry_ids(playlist)))
        response = user_api.post(reorder_url(playlist), {"entries": new_order}, format="json")
        assert response.status_code == 200 and response.json() == {"entries": new_order}
        assert entry_ids(playlist) == new_order
        assert_contiguous(playlist)

    @pytest.mark.parametrize("mangle", [
        lambda ids: ids[:-1],                 # one missing
        lambda ids: ids + [ids[0]],           # one twice
        lambda ids: ids[:-1] + [ids[0]],      # duplicate in place of a missing one
        lambda ids: ids[:-1] + [999999],      # a stranger
    ])
    def test_not_a_permutation(self, user_api, user, mangle):
        playlist = make_playlist(user, tracks=3)
        before = entry_ids(playlist)
        response = user_api.post(reorder_url(playlist), {"entries": mangle(before)}, format="json")
        assert response.status_code == 400
        assert response.json() == {"entries": ["Must list each of the playlist's 3 entries exactly once."]}
        assert entry_ids(playlist) == before

    def test_exactly_one_form(self, user_api, user):
        playlist = make_playlist(user, tracks=2)
        expected = {"non_field_errors": ["Send either from_position and to_position, or entries."]}
        assert user_api.post(reorder_url(playlist), {}, format="json").json() == expected
        both = {"entries": entry_ids(playlist), "from_position": 1, "to_position": 2}
        assert user_api.post(reorder_url(playlist), both, format="json").json() == expected
        assert user_api.post(reorder_url(playlist), {"from_position": 1}, format="json").json() == {
            "to_position": ["This field is required."]
        }

    def test_entries_must_be_integers(self, user_api, user):
        playlist = make_playlist(user, tracks=1)
        response = user_api.post(reorder_url(playlist), {"entries": ["a"]}, format="json")
        assert response.json() == {"entries": {"0": ["A valid integer is required."]}}

    def test_other_user_gets_403(self, other_api, user):
        playlist = make_playlist(user, tracks=2)
        response = other_api.post(reorder_url(playlist), {"from_position": 1, "to_position": 2}, format="json")
        assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_keep_positions_contiguous():
    """Many requests append to one playlist at once: the row lock makes each see the previous
    one's count, so no two entries get the same position and every commit succeeds."""
    from vobemusic.testing import client_for

    owner = make_user()
    playlist = make_playlist(owner)
    tracks = [make_track() for _ in range(8)]
    start = threading.Barrier(len(tracks))
    statuses = []

    def add(track):
        try:
            client = client_for(owner)
            start.wait()
            statuses.append(client.post(tracks_url(playlist), {"track_id": track.pk}, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(t,)) for t in tracks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [201] * len(tracks)
    positions = sorted(PlaylistTrack.objects.filter(playlist=playlist).values_list("position", flat=True))
    assert positions == list(range(1, len(tracks) + 1))


@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_and_removals_keep_positions_contiguous():
    owner = make_user()
    playlist = make_playlist(owner, tracks=10)
    ids = entry_ids(playlist)
    start = threading.Barrier(4)
    statuses = []

    def run(method, url, payload=None):
        from vobemusic.testing import client_for

        try:
            client = client_for(owner)
            start.wait()
            statuses.append(getattr(client, method)(url, payload, format="json").status_code)
        finally:
            connection.close()

    jobs = [
        # Positions valid whatever order the four run in (the removals leave 8 entries).
        ("post", reorder_url(playlist), {"from_position": 1, "to_position": 8}),
        ("delete", f"{tracks_url(playlist)}{ids[4]}/", None),
        ("post", reorder_url(playlist), {"from_position": 8, "to_position": 2}),
        ("delete", f"{tracks_url(playlist)}{ids[7]}/", None),
    ]
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 200, 204, 204]
    positions = sorted(PlaylistTrack.objects.filter(playlist=playlist).values_list("position", flat=True))
    assert positions == list(range(1, 9))
