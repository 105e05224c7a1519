"""A single comment: read, edit (author only), soft delete (author or admin)."""
import pytest

from comments.models import Comment
from comments.tests.factories import make_comment
from content.tests.factories import make_post

pytestmark = pytest.mark.django_db


def url(comment):
    return f"/api/v1/comments/{comment.pk}/"


def test_retrieve(anon):
    comment = make_comment(make_post(), body="Hello")
    response = anon.get(url(comment))
    assert response.status_code == 200
    assert response.json()["body"] == "Hello" and response.json()["id"] == comment.pk


def test_comment_on_a_hidden_draft_is_404(anon, user):
    comment = make_comment(make_post(user, is_published=False))
    assert anon.get(url(comment)).json() == {"detail": "No Comment matches the given query."}


def test_no_list_route(anon):
    assert anon.get("/api/v1/comments/").status_code == 404


class TestEdit:
    def test_author_edits_and_edited_at_is_set(self, user_api, user):
        comment = make_comment(make_post(), user)
        response = user_api.patch(url(comment), {"body": "Fixed typo"}, format="json")
        assert response.status_code == 200
        assert response.json()["body"] == "Fixed typo" and response.json()["edited_at"] is not None
        comment.refresh_from_db()
        assert comment.body == "Fixed typo" and comment.edited_at is not None

    def test_parent_and_post_cannot_be_changed(self, user_api, user):
        post = make_post()
        comment = make_comment(post, user)
        other = make_comment(post)
        body = user_api.patch(url(comment), {"body": "x", "parent": other.pk, "post": 1}, format="json").json()
        assert body["parent"] is None and body["post"] == post.pk

    def test_other_user_gets_403(self, other_api, user):
        comment = make_comment(make_post(), user)
        response = other_api.patch(url(comment), {"body": "hijack"}, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "You do not have permission to perform this action."}

    def test_admin_cannot_rewrite_someone_elses_words(self, admin_api, user):
        comment = make_comment(make_post(), user)
        assert admin_api.patch(url(comment), {"body": "x"}, format="json").status_code == 403

    def test_anonymous_gets_401(self, anon):
        comment = make_comment(make_post())
        assert anon.patch(url(comment), {"body": "x"}, format="json").status_code == 401

    def test_blank_body(self, user_api, user):
        comment = make_comment(make_post(), user)
        response = user_api.patch(url(comment), {"body": ""}, format="json")
        assert response.status_code == 400
        assert response.json() == {"body": ["This field may not be blank."]}

    def test_deleted_comment_cannot_be_edited(self, user_api, user):
        comment = make_comment(make_post(), user)
        comment.soft_delete()
        response = user_api.patch(url(comment), {"body": "back"}, format="json")
        assert response.status_code == 400
        assert response.json() == {"body": ["A deleted comment cannot be edited."]}


class TestDelete:
    def test_author_soft_deletes(self, user_api, user, anon):
        post = make_post()
        comment = make_comment(post, user, body="oops")
        reply = make_comment(post, parent=comment)

        assert user_api.delete(url(comment)).status_code == 204

        comment.refresh_from_db()
        assert comment.is_deleted and comment.body == "oops"  # kept for moderation
        body = anon.get(url(comment)).json()
        assert body["body"] == "[deleted]" and body["author"] is None
        assert Comment.objects.get(pk=reply.pk).parent_id == comment.pk

    def test_admin_deletes_any(self, admin_api):
        comment = make_comment(make_post())
        assert admin_api.delete(url(comment)).status_code == 204
        assert Comment.objects.get(pk=comment.pk).is_deleted

    def test_other_user_gets_403(self, other_api, user):
        comment = make_comment(make_post(), user)
        assert other_api.delete(url(comment)).status_code == 403
        assert not Comment.objects.get(pk=comment.pk).is_deleted

    def test_deleting_twice_is_harmless(self, user_api, user):
        comment = make_comment(make_post(), user)
        assert user_api.delete(url(comment)).status_code == 204
        assert user_api.delete(url(comment)).status_code == 204

    def test_deleted_comments_do_not_count(self, anon, user_api, user):
        post = make_post()
        comment = make_comment(post, user)
        make_comment(post)
        user_api.delete(url(comment))
        assert anon.get(f"/api/v1/posts/{post.pk}/").json()["comment_count"] == 1
