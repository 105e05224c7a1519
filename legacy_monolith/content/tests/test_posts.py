"""Posts: visibility of drafts, writes by owner/admin, filters, ordering, search, pagination."""
import pytest

from comments.tests.factories import make_comment
from content.models import Post
from content.tests.factories import make_post
from vobemusic.testing import make_artist, make_track

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


class TestList:
    def test_shape(self, anon, user):
        artist = make_artist(name="Nina")
        track = make_track(artist=artist, title="Feeling Good")
        post = make_post(user, title="On Nina", artists=[artist], tracks=[track])
        make_comment(post)
        make_comment(post, is_deleted=True)

        body = anon.get(POSTS).json()

        assert body["count"] == 1 and body["next"] is None and body["previous"] is None
        row = body["results"][0]
        assert set(row) == {
            "id", "author", "title", "body", "artists", "tracks", "is_published", "published_at",
            "comment_count", "created_at", "updated_at",
        }
        assert row["author"] == {"id": user.pk, "username": user.username, "display_name": user.profile.display_name}
        assert row["artists"] == [{"id": artist.pk, "name": "Nina", "country": "", "image_url": ""}]
        assert row["tracks"][0]["id"] == track.pk and row["tracks"][0]["artist"]["id"] == artist.pk
        assert row["comment_count"] == 1  # the deleted comment is not counted
        assert row["published_at"] is not None

    def test_anonymous_sees_only_published(self, anon, user):
        published = make_post(user)
        make_post(user, is_published=False)
        assert ids(anon.get(POSTS)) == [published.pk]

    def test_author_also_sees_own_drafts(self, user_api, user, other_user):
        mine_draft = make_post(user, is_published=False)
        make_post(other_user, is_published=False)
        published = make_post(other_user)
        assert ids(user_api.get(POSTS)) == [published.pk, mine_draft.pk]

    def test_admin_sees_every_draft(self, admin_api, user, other_user):
        posts = [make_post(user, is_published=False), make_post(other_user, is_published=False)]
        assert sorted(ids(admin_api.get(POSTS))) == sorted(p.pk for p in posts)

    def test_newest_first_by_default(self, anon):
        first, second = make_post(), make_post()
        assert ids(anon.get(POSTS)) == [second.pk, first.pk]

    def test_pagination(self, anon):
        posts = [make_post() for _ in range(3)]
        response = anon.get(POSTS, {"page_size": 2})
        body = response.json()
        assert body["count"] == 3
        assert body["next"] == "http://testserver/api/v1/posts/?page=2&page_size=2"
        assert ids(response) == [posts[2].pk, posts[1].pk]
        second = anon.get(body["next"]).json()
        assert [r["id"] for r in second["results"]] == [posts[0].pk]
        assert second["previous"] == "http://testserver/api/v1/posts/?page_size=2"

    def test_page_out_of_range(self, anon):
        make_post()
        response = anon.get(POSTS, {"page": 5})
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid page."}

    def test_query_count_does_not_grow_with_page(self, anon, django_assert_max_num_queries):
        for _ in range(5):
            artist = make_artist()
            make_post(artists=[artist], tracks=[make_track(artist=artist), make_track()])
        # count + page + artists + tracks(with artist); author and profile are joined.
        with django_assert_max_num_queries(4):
            assert anon.get(POSTS).status_code == 200


class TestFilters:
    def test_by_author(self, anon, user, other_user):
        mine = make_post(user)
        make_post(other_user)
        assert ids(anon.get(POSTS, {"author": user.pk})) == [mine.pk]

    def test_by_artist_and_track(self, anon):
        artist, track = make_artist(), make_track()
        with_artist = make_post(artists=[artist])
        with_track = make_post(tracks=[track])
        make_post()
        assert ids(anon.get(POSTS, {"artist": artist.pk})) == [with_artist.pk]
        assert ids(anon.get(POSTS, {"track": track.pk})) == [with_track.pk]

    def test_by_published_flag(self, user_api, user):
        draft = make_post(user, is_published=False)
        make_post(user)
        assert ids(user_api.get(POSTS, {"published": "false"})) == [draft.pk]

    def test_by_created_range(self, anon):
        old, new = make_post(), make_post()
        Post.objects.filter(pk=old.pk).update(created_at="2024-01-01T00:00:00Z")
        Post.objects.filter(pk=new.pk).update(created_at="2025-06-01T00:00:00Z")
        assert ids(anon.get(POSTS, {"created_after": "2025-01-01T00:00:00Z"})) == [new.pk]
        assert ids(anon.get(POSTS, {"created_before": "2025-01-01T00:00:00Z"})) == [old.pk]

    def test_invalid_filter_value(self, anon):
        response = anon.get(POSTS, {"author": "x"})
        assert response.status_code == 400
        assert response.json() == {"author": ["Enter a number."]}

    def test_search_by_title(self, anon):
        hit = make_post(title="Blue Train revisited")
        make_post(title="Kind of Purple")
        assert ids(anon.get(POSTS, {"search": "train"})) == [hit.pk]

    def test_ordering_by_title(self, anon):
        b, a = make_post(title="B side"), make_post(title="A side")
        assert ids(anon.get(POSTS, {"ordering": "title"})) == [a.pk, b.pk]
        assert ids(anon.get(POSTS, {"ordering": "-title"})) == [b.pk, a.pk]


class TestCreate:
    def test_anonymous_gets_401(self, anon):
        response = anon.post(POSTS, {"title": "x", "body": "y"}, format="json")
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}

    def test_creates_with_links(self, user_api, user):
        artist, track = make_artist(), make_track()
        response = user_api.post(
            POSTS,
            {
                "title": "Fresh", "body": "Text", "artist_ids": [artist.pk], "track_ids": [track.pk],
                "is_published": True,
            },
            format="json",
        )
        assert response.status_code == 201
        body = response.json()
        assert body["author"]["id"] == user.pk
        assert [a["id"] for a in body["artists"]] == [artist.pk]
        assert [t["id"] for t in body["tracks"]] == [track.pk]
        assert body["comment_count"] == 0 and body["published_at"] is not None
        post = Post.objects.get(pk=body["id"])
        assert post.author == user and list(post.tracks.all()) == [track]

    def test_draft_by_default(self, user_api):
        body = user_api.post(POSTS, {"title": "Draft", "body": "Text"}, format="json").json()
        assert body["is_published"] is False and body["published_at"] is None

    def test_author_cannot_be_forged(self, user_api, user, other_user):
        body = user_api.post(POSTS, {"title": "t", "body": "b", "author": other_user.pk}, format="json").json()
        assert body["author"]["id"] == user.pk

    def test_validation_errors(self, user_api):
        response = user_api.post(POSTS, {"title": "", "track_ids": [999999]}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "title": ["This field may not be blank."],
            "body": ["This field is required."],
            "track_ids": ['Invalid pk "999999" - object does not exist.'],
        }

    def test_title_too_long(self, user_api):
        response = user_api.post(POSTS, {"title": "x" * 201, "body": "b"}, format="json")
        assert response.json() == {"title": ["Ensure this field has no more than 200 characters."]}


class TestUpdateDelete:
    def test_owner_updates_and_relinks(self, user_api, user):
        post = make_post(user, artists=[make_artist()])
        artist = make_artist()
        response = user_api.patch(f"{POSTS}{post.pk}/", {"title": "New", "artist_ids": [artist.pk]}, format="json")
        assert response.status_code == 200
        assert response.json()["title"] == "New"
        assert [a["id"] for a in response.json()["artists"]] == [artist.pk]

    def test_publishing_sets_published_at(self, user_api, user):
        post = make_post(user, is_published=False)
        body = user_api.patch(f"{POSTS}{post.pk}/", {"is_published": True}, format="json").json()
        assert body["published_at"] is not None

    def test_other_user_gets_403_on_published_post(self, other_api, user):
        post = make_post(user)
        response = other_api.patch(f"{POSTS}{post.pk}/", {"title": "Mine now"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "You do not have permission to perform this action."}
        assert other_api.delete(f"{POSTS}{post.pk}/").status_code == 403

    def test_other_users_draft_is_404(self, other_api, user):
        post = make_post(user, is_published=False)
        response = other_api.get(f"{POSTS}{post.pk}/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No Post matches the given query."}
        assert other_api.delete(f"{POSTS}{post.pk}/").status_code == 404

    def test_admin_edits_and_deletes_any_post(self, admin_api, user):
        post = make_post(user, is_published=False)
        assert admin_api.patch(f"{POSTS}{post.pk}/", {"title": "Moderated"}, format="json").status_code == 200
        assert admin_api.delete(f"{POSTS}{post.pk}/").status_code == 204
        assert not Post.objects.filter(pk=post.pk).exists()

    def test_owner_deletes(self, user_api, user):
        post = make_post(user)
        assert user_api.delete(f"{POSTS}{post.pk}/").status_code == 204
        assert not Post.objects.filter(pk=post.pk).exists()

    def test_put_requires_all_fields(self, user_api, user):
        post = make_post(user)
        response = user_api.put(f"{POSTS}{post.pk}/", {"title": "Only title"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"body": ["This field is required."]}
