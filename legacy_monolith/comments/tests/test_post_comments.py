"""A post's comments: flat list, thread (?tree=1), creating comments and replies."""
import pytest

from comments.models import MAX_DEPTH, Comment
from comments.tests.factories import make_comment
from content.tests.factories import make_post

pytestmark = pytest.mark.django_db


def url(post):
    return f"/api/v1/posts/{post.pk if hasattr(post, 'pk') else post}/comments/"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


class TestList:
    def test_flat_oldest_first_with_replies_inline(self, anon):
        post = make_post()
        root = make_comment(post)
        reply = make_comment(post, parent=root)
        other_root = make_comment(post)
        make_comment(make_post())  # another post's comment

        response = anon.get(url(post))

        assert response.status_code == 200
        assert response.json()["count"] == 3
        assert ids(response) == [root.pk, reply.pk, other_root.pk]
        row = response.json()["results"][1]
        assert row["post"] == post.pk and row["parent"] == root.pk and row["depth"] == 1
        assert "replies" not in row

    def test_pagination(self, anon):
        post = make_post()
        comments = [make_comment(post) for _ in range(3)]
        body = anon.get(url(post), {"page_size": 2}).json()
        assert body["count"] == 3 and len(body["results"]) == 2
        assert body["next"] == f"http://testserver{url(post)}?page=2&page_size=2"
        assert [r["id"] for r in anon.get(body["next"]).json()["results"]] == [comments[2].pk]

    def test_filters(self, anon, user):
        post = make_post()
        root = make_comment(post, user)
        reply = make_comment(post, parent=root)
        assert ids(anon.get(url(post), {"author": user.pk})) == [root.pk]
        assert ids(anon.get(url(post), {"parent": root.pk})) == [reply.pk]
        assert ids(anon.get(url(post), {"top_level": "true"})) == [root.pk]
        assert ids(anon.get(url(post), {"ordering": "-created_at"})) == [reply.pk, root.pk]

    def test_tree_paginates_top_level_comments(self, anon):
        post = make_post()
        first = make_comment(post)
        child = make_comment(post, parent=first)
        grandchild = make_comment(post, parent=child)
        second = make_comment(post)
        third = make_comment(post)

        body = anon.get(url(post), {"tree": "1", "page_size": 2}).json()

        assert body["count"] == 3
        assert [n["id"] for n in body["results"]] == [first.pk, second.pk]
        assert body["results"][0]["replies"][0]["id"] == child.pk
        assert body["results"][0]["replies"][0]["replies"][0]["id"] == grandchild.pk
        assert body["results"][1]["replies"] == []
        assert [n["id"] for n in anon.get(body["next"]).json()["results"]] == [third.pk]

    def test_deleted_comments_stay_in_the_list_as_placeholders(self, anon):
        post = make_post()
        comment = make_comment(post, body="rude")
        comment.soft_delete()
        row = anon.get(url(post)).json()["results"][0]
        assert row["body"] == "[deleted]" and row["author"] is None and row["is_deleted"] is True

    def test_draft_post_comments_are_hidden_from_others(self, anon, other_api, user_api, user):
        draft = make_post(user, is_published=False)
        make_comment(draft, user)
        assert anon.get(url(draft)).status_code == 404
        assert other_api.get(url(draft)).json() == {"detail": "No Post matches the given query."}
        assert user_api.get(url(draft)).json()["count"] == 1

    def test_unknown_post(self, anon):
        assert anon.get(url(999999)).status_code == 404


class TestCreate:
    def test_top_level_comment(self, user_api, user):
        post = make_post()
        response = user_api.post(url(post), {"body": "Lovely"}, format="json")
        assert response.status_code == 201
        body = response.json()
        assert body["post"] == post.pk and body["parent"] is None and body["depth"] == 0
        assert body["author"]["id"] == user.pk and body["edited_at"] is None
        assert Comment.objects.get(pk=body["id"]).author == user

    def test_reply_gets_parent_depth_plus_one(self, user_api):
        post = make_post()
        parent = make_comment(post, parent=make_comment(post))
        body = user_api.post(url(post), {"body": "Re", "parent": parent.pk}, format="json").json()
        assert body["parent"] == parent.pk and body["depth"] == 2

    def test_client_cannot_choose_depth_or_post(self, user_api):
        post, other_post = make_post(), make_post()
        body = user_api.post(url(post), {"body": "x", "depth": 5, "post": other_post.pk}, format="json").json()
        assert body["depth"] == 0 and body["post"] == post.pk

    def test_anonymous_gets_401(self, anon):
        response = anon.post(url(make_post()), {"body": "x"}, format="json")
        assert response.status_code == 401

    def test_cannot_comment_on_someone_elses_draft(self, other_api, user):
        draft = make_post(user, is_published=False)
        assert other_api.post(url(draft), {"body": "x"}, format="json").status_code == 404

    def test_body_required(self, user_api):
        response = user_api.post(url(make_post()), {}, format="json")
        assert response.status_code == 400
        assert response.json() == {"body": ["This field is required."]}

    def test_body_blank_and_too_long(self, user_api):
        post = make_post()
        assert user_api.post(url(post), {"body": "   "}, format="json").json() == {
            "body": ["This field may not be blank."]
        }
        assert user_api.post(url(post), {"body": "x" * 5001}, format="json").json() == {
            "body": ["Ensure this field has no more than 5000 characters."]
        }

    def test_parent_from_another_post(self, user_api):
        post = make_post()
        foreign = make_comment(make_post())
        response = user_api.post(url(post), {"body": "x", "parent": foreign.pk}, format="json")
        assert response.status_code == 400
        assert response.json() == {"parent": ["The parent comment belongs to a different post."]}

    def test_unknown_parent(self, user_api):
        response = user_api.post(url(make_post()), {"body": "x", "parent": 999999}, format="json")
        assert response.json() == {"parent": ['Invalid pk "999999" - object does not exist.']}

    def test_cannot_reply_to_deleted_comment(self, user_api):
        post = make_post()
        parent = make_comment(post)
        parent.soft_delete()
        response = user_api.post(url(post), {"body": "x", "parent": parent.pk}, format="json")
        assert response.json() == {"parent": ["You cannot reply to a deleted comment."]}

    def test_depth_limit(self, user_api):
        post = make_post()
        parent = None
        for _ in range(MAX_DEPTH + 1):  # depths 0..MAX_DEPTH
            parent = make_comment(post, parent=parent)
        assert parent.depth == MAX_DEPTH

        response = user_api.post(url(post), {"body": "too deep", "parent": parent.pk}, format="json")

        assert response.status_code == 400
        assert response.json() == {"parent": [f"Replies cannot be nested more than {MAX_DEPTH} levels deep."]}
        ok = user_api.post(url(post), {"body": "fits", "parent": parent.parent_id}, format="json")
        assert ok.status_code == 201 and ok.json()["depth"] == MAX_DEPTH
