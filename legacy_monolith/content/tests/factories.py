"""Post factory for the content and comments tests."""
from accounts.models import User
from content.models import Post
from vobemusic.testing import make_user


def make_post(author: User | None = None, *, artists=(), tracks=(), **fields) -> Post:
    fields.setdefault("title", "Notes on a record")
    fields.setdefault("body", "Long read about the sound.")
    fields.setdefault("is_published", True)
    post = Post.objects.create(author=author or make_user(), **fields)
    post.artists.set(artists)
    post.tracks.set(tracks)
    return post
