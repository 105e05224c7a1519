"""Demo posts, comment threads, feedback tickets and playlists: consistent with what the API
itself would have written, deterministic, and with the showcase post the benchmark reads."""
import pytest
from django.db.models import Count, F

from accounts.models import User
from comments.models import MAX_DEPTH, Comment
from content.models import Post
from feedback.models import Ticket
from playlists.models import Playlist, PlaylistTrack
from demo_data.tests.generation import generate, snapshot

pytestmark = pytest.mark.django_db

TABLES = ["content_post", "content_post_artists", "content_post_tracks", "comments_comment", "feedback_ticket",
          "playlists_playlist", "playlists_playlisttrack"]


def test_deterministic():
    generate(tracks=400, seed=5)
    first = snapshot(TABLES)
    generate(tracks=400, seed=5)
    assert snapshot(TABLES) == first


def test_scale_with_the_catalogue():
    generate(tracks=2000, seed=1)
    assert Post.objects.count() == 100
    assert Playlist.objects.count() == 25 and Ticket.objects.count() == 20
    assert Comment.objects.count() > Post.objects.count()


def test_threads_are_consistent():
    generate(tracks=1000, seed=2)
    replies = Comment.objects.filter(parent__isnull=False)
    assert replies.exists()
    assert not replies.exclude(post=F("parent__post")).exists()
    assert not replies.exclude(depth=F("parent__depth") + 1).exists()
    assert not replies.filter(created_at__lte=F("parent__created_at")).exists()
    assert not Comment.objects.filter(parent__isnull=True).exclude(depth=0).exists()
    assert not Comment.objects.filter(depth__gt=MAX_DEPTH).exists()
    assert not Comment.objects.filter(post__is_published=False).exists()
    assert not Comment.objects.filter(created_at__lt=F("post__published_at")).exists()


def test_showcase_post_has_a_long_thread_and_links():
    generate(tracks=400, seed=3)
    post = Post.objects.get(pk=1)
    assert post.is_published and post.artists.exists() and post.tracks.exists()
    assert post.comments.count() >= 100
    assert post.comments.filter(depth__gte=2).exists()


def test_playlist_positions_are_contiguous():
    generate(tracks=1000, seed=4)
    for playlist in Playlist.objects.annotate(n=Count("entries")):
        positions = list(PlaylistTrack.objects.filter(playlist=playlist).values_list("position", flat=True))
        assert sorted(positions) == list(range(1, playlist.n + 1))


def test_tickets_are_anonymous_only_with_an_email():
    generate(tracks=400, seed=6)
    assert not Ticket.objects.filter(author__isnull=True, email="").exists()
    assert not Ticket.objects.filter(status="open").exclude(staff_note="").exists()


def test_sequences_continue_after_the_loaded_ids():
    generate(tracks=400, seed=7)
    user = User.objects.get(username="demo")
    post = Post.objects.create(author=user, title="t", body="b")
    assert post.pk == Post.objects.count()
    assert Comment.objects.create(post=post, author=user, body="b").pk == Comment.objects.count()
