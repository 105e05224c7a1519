"""The demo-data generator: deterministic, sized as documented, with usable sequences and logins."""
import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import F

from catalog.models import Album, Artist, Genre, Track
from demo_data.context import copy_text
from demo_data.tests.generation import generate, snapshot

pytestmark = pytest.mark.django_db

TABLES = ["accounts_user", "accounts_profile", "catalog_genre", "catalog_artist", "catalog_album", "catalog_track",
          "listening_listenevent"]


def test_same_seed_same_rows_and_ids():
    generate(tracks=300, seed=7)
    first = snapshot(TABLES)
    generate(tracks=300, seed=7)
    assert snapshot(TABLES) == first
    generate(tracks=300, seed=8)
    assert snapshot(TABLES)["catalog_track"] != first["catalog_track"]


def test_scale_and_relations():
    generate(tracks=400, seed=1)
    assert Genre.objects.count() == 30
    assert Artist.objects.count() == 20 and Album.objects.count() == 40 and Track.objects.count() == 400
    assert [t.pk for t in Track.objects.order_by("id")] == list(range(1, 401))
    # Tracks on an album belong to the album's artist.
    assert not Track.objects.filter(album__isnull=False).exclude(album__artist=F("artist")).exists()
    assert Track.objects.filter(popularity__gt=100).count() == 0


def test_sequences_continue_after_the_loaded_ids():
    generate(tracks=200, seed=3)
    track = Track.objects.create(title="After", artist_id=1, duration_ms=1000)
    assert track.pk == 201


def test_known_logins():
    generate(tracks=100, seed=3)
    admin = authenticate(username="admin", password="admin-password-123")
    assert admin is not None and admin.role == "admin" and admin.is_superuser
    demo = authenticate(username="demo", password="demo-password-123")
    assert demo is not None and demo.role == "user"


def test_refuses_to_overwrite_without_reset():
    generate(tracks=100, seed=3)
    with pytest.raises(CommandError):
        call_command("generate_demo_data", tracks=100, stdout=open("/dev/null", "w"))


def test_copy_text_escapes():
    assert copy_text(None) == "\\N"
    assert copy_text("a\tb\\c\nd") == "a\\tb\\\\c\\nd"
    assert copy_text(True) == "t"

