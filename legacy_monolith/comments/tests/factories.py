"""Comment factory for the comments and content tests."""
from accounts.models import User
from comments.models import Comment
from content.models import Post
from vobemusic.testing import make_user


def make_comment(post: Post, author: User | None = None, parent: Comment | None = None, **fields) -> Comment:
    fields.setdefault("body", "Great track")
    return Comment.objects.create(post=post, author=author or make_user(), parent=parent, **fields)
