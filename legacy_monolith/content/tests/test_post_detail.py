"""The post page: post, linked artists and tracks, and the whole comment thread."""
import pytest

from comments.tests.factories import make_comment
from content.tests.factories import make_post
from vobemusic.testing import make_artist, make_track

pytestmark = pytest.mark.django_db


def url(post):
    return f"/api/v1/posts/{post.pk}/"


def shape(nodes):
    """(id, [children...]) pairs: the thread's shape without the other fields."""
    return [(node["id"], shape(node["replies"])) for node in nodes]


def test_detail_embeds_links_and_thread(anon, user, other_user):
    artist = make_artist()
    track = make_track(artist=artist)
    post = make_post(user, artists=[artist], tracks=[track])
    root = make_comment(post, user, body="First!")
    reply = make_comment(post, other_user, parent=root, body="Agreed")
    second_root = make_comment(post, other_user)

    body = anon.get(url(post)).json()

    assert [a["id"] for a in body["artists"]] == [artist.pk]
    assert body["tracks"][0]["artist"]["name"] == artist.name
    assert body["comment_count"] == 3
    assert shape(body["comments"]) == [(root.pk, [(reply.pk, [])]), (second_root.pk, [])]
    node = body["comments"][0]["replies"][0]
    assert set(node) == {
        "id", "post", "parent", "depth", "author", "body", "is_deleted", "edited_at", "created_at", "updated_at",
        "replies",
    }
    assert node["parent"] == root.pk and node["depth"] == 1 and node["body"] == "Agreed"
    assert node["author"]["id"] == other_user.pk


def test_deleted_comment_is_a_placeholder_keeping_its_replies(anon, user):
    post = make_post(user)
    root = make_comment(post, user, body="secret")
    reply = make_comment(post, parent=root)
    root.soft_delete()

    node = anon.get(url(post)).json()["comments"][0]

    assert node["id"] == root.pk and node["is_deleted"] is True
    assert node["body"] == "[deleted]" and node["author"] is None
    assert [r["id"] for r in node["replies"]] == [reply.pk]


def test_post_without_comments(anon):
    post = make_post()
    body = anon.get(url(post)).json()
    assert body["comments"] == [] and body["comment_count"] == 0


def test_thread_costs_a_fixed_number_of_queries(anon, django_assert_max_num_queries):
    post = make_post(artists=[make_artist()], tracks=[make_track(), make_track()])
    parent = None
    for depth in range(6):  # a deep chain plus a wide level
        parent = make_comment(post, parent=parent)
        make_comment(post)
    # post (+author, profile, comment count) + artists + tracks + the thread with authors.
    with django_assert_max_num_queries(4):
        response = anon.get(url(post))
    assert response.status_code == 200
    assert len(response.json()["comments"]) == 7


def test_missing_post(anon):
    response = anon.get("/api/v1/posts/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Post matches the given query."}
