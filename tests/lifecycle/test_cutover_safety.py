"""Cutover safety on the real pieces (the monolith's database with demo data, `python -m
services.catalog.run`, the Debezium relay and Tansu): what the carve kit guarantees around the
write-ownership handover.

- a write that reaches the service while the monolith owns the domain is refused and changes nothing;
- "caught up" is decided per partition: a table partition the service has not consumed is behind;
- after the handover the service hands out ids above every id the monolith ever handed out;
- deletes replayed into the monolith have Django's effects (CASCADE, SET_NULL) on the tables
  the service does not own;
- an entry the monolith refuses is parked with its reason; entries of other rows go on, later
  entries of the same row wait; after the cause is removed, `retry-parked` applies them in order.

The handover is the service's POST /internal/write-ownership, as the proxy's flip of catalog-write
calls it; every test leaves the writes with the monolith."""
from __future__ import annotations

import contextlib
import uuid

import psycopg
import pytest

from cdc.testing import wait_until
from tests.carve_kit.tables import assert_tables_equal
from tests.lifecycle.conftest import CATALOG
from tests.parity.tokens import access_token

pytestmark = pytest.mark.slow
DEADLINE = 120
REFUSED_TITLE = "Refused by the monolith"


@pytest.fixture(scope="module")
def admin(source_url) -> dict:
    with psycopg.connect(source_url) as conn:
        user = conn.execute("SELECT id FROM accounts_user WHERE role = 'admin' ORDER BY id LIMIT 1").fetchone()[0]
    return {"Authorization": f"Bearer {access_token(user, lifetime=3600)}"}


@contextlib.contextmanager
def service_owns(service):
    """The write cutover and its rollback: ownership to the service, then back to the monolith."""
    assert service.write_owner() == "monolith"
    answer = service.hand_over("service", "safety-test")
    try:
        yield answer
    finally:
        service.hand_over("monolith", "safety-test")
        service.wait_outbox_empty(DEADLINE)


def one(url: str, query: str, *params):
    with psycopg.connect(url) as conn:
        row = conn.execute(query, params).fetchone()
    return row[0] if row is not None and len(row) == 1 else row


def insert_artist(conn, name: str) -> int:
    return conn.execute("INSERT INTO catalog_artist (name, bio, country, image_url, created_at, updated_at) "
                        "VALUES (%s, '', 'SE', '', now(), now()) RETURNING id", (name,)).fetchone()[0]


def insert_album(conn, artist_id: int, title: str) -> int:
    return conn.execute("INSERT INTO catalog_album (artist_id, title, release_date, cover_image_url, created_at, "
                        "updated_at) VALUES (%s, %s, '2024-01-01', '', now(), now()) RETURNING id",
                        (artist_id, title)).fetchone()[0]


def insert_track(conn, artist_id: int, album_id: int | None, title: str) -> int:
    return conn.execute(
        "INSERT INTO catalog_track (title, artist_id, album_id, genre_id, duration_ms, popularity, price, file_path, "
        "created_at, updated_at) VALUES (%s, %s, %s, NULL, 180000, 1, 0.99, '', now(), now()) RETURNING id",
        (title, artist_id, album_id)).fetchone()[0]


def test_write_reaching_the_service_while_the_monolith_owns_is_refused(catalog_service, catalog_url, admin):
    assert catalog_service.write_owner() == "monolith"
    track = one(catalog_url, "SELECT id FROM catalog_track ORDER BY id LIMIT 1")
    before = one(catalog_url, "SELECT count(*), max(id) FROM catalog_outbox"), \
        one(catalog_url, "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM catalog_track t")
    artist = one(catalog_url, "SELECT id FROM catalog_artist ORDER BY id LIMIT 1")
    for method, path, body in (
            ("POST", "/api/v1/tracks/", {"title": "Second writer", "artist_id": artist, "duration_ms": 1000}),
            ("PATCH", f"/api/v1/tracks/{track}/", {"title": "Second writer"}),
            ("DELETE", f"/api/v1/tracks/{track}/", None)):
        status, answer, headers = catalog_service.request(method, path, body, admin)
        assert status == 409, (method, status, answer)
        assert {k.lower(): v for k, v in headers.items()}.get("x-write-owner") == "monolith"
        assert "monolith" in answer["detail"]
    after = one(catalog_url, "SELECT count(*), max(id) FROM catalog_outbox"), \
        one(catalog_url, "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM catalog_track t")
    assert after == before      # no outbox entry, no change


def test_caught_up_reports_a_lagging_table_partition(catalog_service, source_url):
    catalog_service.restart("--no-cdc")      # the API without its forward sync
    try:
        with psycopg.connect(source_url, autocommit=True) as conn:
            artist = one(source_url, "SELECT id FROM catalog_artist ORDER BY id LIMIT 1")
            track = insert_track(conn, artist, None, f"While not consumed {uuid.uuid4().hex[:6]}")

        def lagging() -> dict | None:
            status = catalog_service.sync_status(caught_up=True, wait=0)
            topics = {lag["topic"] for lag in status["catch_up"]["behind"]}
            return status if "vobe.public.catalog_track" in topics else None
        # Behind once the relay has delivered the insert to the broker (a peek reads it there).
        status = wait_until(lagging, DEADLINE, 0.2, "catalog_track reported behind")
        assert status["caught_up"] is False
    finally:
        catalog_service.restart()
    catalog_service.wait_caught_up(DEADLINE)
    assert catalog_service.caught_up(wait=10)      # a target of its own, confirmed by the next heartbeat
    assert catalog_service.get(f"/api/v1/tracks/{track}/")[0] == 200


def test_next_service_id_is_above_every_id_the_monolith_handed_out(catalog_service, source_url, catalog_url, admin):
    with psycopg.connect(source_url, autocommit=True) as conn:
        top = [r[0] for r in conn.execute("SELECT id FROM catalog_track ORDER BY id DESC LIMIT 3")]
        # Delete them as Django would (their listens, playlist entries and post links first).
        for table in ("listening_listenevent", "playlists_playlisttrack", "content_post_tracks"):
            conn.execute(f"DELETE FROM {table} WHERE track_id = ANY(%s)", (top,))
        conn.execute("DELETE FROM catalog_track WHERE id = ANY(%s)", (top,))
        # Ids handed out to transactions that rolled back: no row, no CDC event, the sequence moved.
        artist = conn.execute("SELECT id FROM catalog_artist ORDER BY id LIMIT 1").fetchone()[0]
        with contextlib.suppress(RuntimeError), conn.transaction():
            for _ in range(5):
                insert_track(conn, artist, None, "rolled back")
            raise RuntimeError("roll back")
        handed_out = conn.execute("SELECT last_value FROM catalog_track_id_seq").fetchone()[0]
    assert handed_out > max(top) + 4
    catalog_service.wait_caught_up(DEADLINE)
    assert one(catalog_url, "SELECT count(*) FROM catalog_track WHERE id = ANY(%s)", top) == 0

    with service_owns(catalog_service) as answer:
        assert answer["sequences"]["catalog_track"] >= handed_out
        status, created, _ = catalog_service.request(
            "POST", "/api/v1/tracks/", {"title": "After the handover", "artist_id": artist, "duration_ms": 1000,
                                        "price": "0.99"}, admin)
        assert status == 201, created
        assert created["id"] > handed_out and created["id"] not in top
    # Handed back: the monolith's own next id is past the service's.
    assert one(source_url, "SELECT last_value FROM catalog_track_id_seq") >= created["id"]
    assert one(source_url, "SELECT title FROM catalog_track WHERE id = %s", created["id"]) == "After the handover"


def test_deletes_through_the_service_have_django_s_effects_in_the_monolith(catalog_service, source_url, catalog_url,
                                                                          admin):
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(source_url, autocommit=True) as conn:
        user = conn.execute("SELECT id FROM accounts_user ORDER BY id LIMIT 1").fetchone()[0]
        other = insert_artist(conn, f"Other {tag}")
        artist = insert_artist(conn, f"Doomed {tag}")
        albums = [insert_album(conn, artist, f"Doomed {tag} {i}") for i in range(2)]
        own_tracks = [insert_track(conn, artist, albums[0], f"Doomed {tag} a"),
                      insert_track(conn, artist, None, f"Doomed {tag} b")]
        guest = insert_track(conn, other, albums[0], f"Guest on a doomed album {tag}")    # SET_NULL
        track = insert_track(conn, other, None, f"Listened {tag}")
        lone_album = insert_album(conn, other, f"Lone album {tag}")
        on_lone_album = insert_track(conn, other, lone_album, f"On the lone album {tag}")  # SET_NULL
        playlist = conn.execute("INSERT INTO playlists_playlist (owner_id, title, description, is_public, created_at, "
                                "updated_at) VALUES (%s, %s, '', true, now(), now()) RETURNING id",
                                (user, f"Safety {tag}")).fetchone()[0]
        post = conn.execute("INSERT INTO content_post (author_id, title, body, is_published, published_at, created_at, "
                            "updated_at) VALUES (%s, %s, 'body', true, now(), now(), now()) RETURNING id",
                            (user, f"Safety {tag}")).fetchone()[0]
        for position, referenced in enumerate((track, own_tracks[0]), start=1):
            conn.execute("INSERT INTO listening_listenevent (user_id, track_id, played_at, play_duration_ms, "
                         "completion_percentage, platform, device_type) VALUES (%s, %s, now(), 1000, 50, 'web', ''), "
                         "(%s, %s, now(), 2000, 100, 'web', '')", (user, referenced, user, referenced))
            conn.execute("INSERT INTO playlists_playlisttrack (playlist_id, track_id, position, added_at) "
                         "VALUES (%s, %s, %s, now())", (playlist, referenced, position))
            conn.execute("INSERT INTO content_post_tracks (post_id, track_id) VALUES (%s, %s)", (post, referenced))
        conn.execute("INSERT INTO content_post_artists (post_id, artist_id) VALUES (%s, %s)", (post, artist))
    catalog_service.wait_caught_up(DEADLINE)
    deleted_tracks = [track, *own_tracks]

    with service_owns(catalog_service):
        for path in (f"/api/v1/tracks/{track}/", f"/api/v1/artists/{artist}/", f"/api/v1/albums/{lone_album}/"):
            status, body, _ = catalog_service.request("DELETE", path, None, admin)
            assert status == 204, (path, status, body)
        catalog_service.wait_outbox_empty(DEADLINE)
        assert catalog_service.sync_status()["outbox_parked"] == 0

    def count(table: str, column: str, ids: list[int]) -> int:
        return one(source_url, f"SELECT count(*) FROM {table} WHERE {column} = ANY(%s)", ids)

    # CASCADE, as Track.delete() / Artist.delete() would have done it in the monolith.
    assert count("catalog_track", "id", deleted_tracks) == 0
    assert count("catalog_artist", "id", [artist]) == 0
    assert count("catalog_album", "id", [*albums, lone_album]) == 0
    for table in ("listening_listenevent", "playlists_playlisttrack", "content_post_tracks"):
        assert count(table, "track_id", deleted_tracks) == 0, table
    assert count("content_post_artists", "artist_id", [artist]) == 0
    # What referenced them stays: the playlist, the post, the other artist's tracks (album cleared).
    assert count("playlists_playlist", "id", [playlist]) == 1 and count("content_post", "id", [post]) == 1
    assert one(source_url, "SELECT array_agg(album_id) FROM catalog_track WHERE id = ANY(%s)",
               [guest, on_lone_album]) == [None, None]
    catalog_service.wait_caught_up(DEADLINE)
    assert_tables_equal(CATALOG, source_url, catalog_url)


def test_refused_entries_are_parked_and_entries_of_other_rows_go_on(catalog_service, source_url, catalog_url, admin):
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(source_url, autocommit=True) as conn:
        artist = conn.execute("SELECT id FROM catalog_artist ORDER BY id LIMIT 1").fetchone()[0]
        refused, triggered, other = (insert_track(conn, artist, None, f"{name} {tag}")
                                     for name in ("Refused", "Triggered", "Other"))
    catalog_service.wait_caught_up(DEADLINE)

    def patch(track_id: int, title: str) -> None:
        status, body, _ = catalog_service.request("PATCH", f"/api/v1/tracks/{track_id}/", {"title": title}, admin)
        assert status == 200, body

    def title(track_id: int) -> str:
        return one(source_url, "SELECT title FROM catalog_track WHERE id = %s", track_id)

    with service_owns(catalog_service):
        with psycopg.connect(source_url, autocommit=True) as conn:
            # Stand for what the monolith's database may refuse for one row: a constraint, and a
            # trigger's exception.
            conn.execute(f"ALTER TABLE catalog_track ADD CONSTRAINT carve_safety_refusal "
                         f"CHECK (title <> '{REFUSED_TITLE}') NOT VALID")
            conn.execute(f"CREATE FUNCTION carve_safety_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                         f"IF NEW.id = {triggered} AND NEW.title LIKE 'Refused%' THEN "
                         f"RAISE EXCEPTION 'carve_safety_trigger refuses %', NEW.id; END IF; RETURN NEW; END $$")
            conn.execute("CREATE TRIGGER carve_safety_trigger BEFORE INSERT OR UPDATE ON catalog_track "
                         "FOR EACH ROW EXECUTE FUNCTION carve_safety_trigger()")
        try:
            patch(refused, REFUSED_TITLE)
            patch(triggered, f"Refused by a trigger {tag}")
            patch(refused, f"Refused {tag}, then accepted")     # same row: waits behind the parked entry
            patch(other, f"Other {tag}, applied")               # another row: goes on
            wait_until(lambda: title(other) == f"Other {tag}, applied", DEADLINE, 0.2, "the other row replayed")

            status = wait_until(lambda: (s := catalog_service.sync_status())["outbox_parked"] == 2 and s,
                                DEADLINE, 0.2, "two parked entries")
            assert status["outbox_pending"] == 3, status
            parked = {p["row_id"]: p for p in status["parked"]}
            assert {(p["table"], p["op"]) for p in parked.values()} == {("catalog_track", "upsert")}
            assert "carve_safety_refusal" in parked[refused]["reason"], parked
            assert "carve_safety_trigger" in parked[triggered]["reason"], parked
            assert (title(refused), title(triggered)) == (f"Refused {tag}", f"Triggered {tag}")
        finally:
            with psycopg.connect(source_url, autocommit=True) as conn:
                conn.execute("ALTER TABLE catalog_track DROP CONSTRAINT IF EXISTS carve_safety_refusal")
                conn.execute("DROP TRIGGER IF EXISTS carve_safety_trigger ON catalog_track")
                conn.execute("DROP FUNCTION IF EXISTS carve_safety_trigger()")
        result = catalog_service.kit_cli("retry-parked")
        assert result.returncode == 0 and "2 parked entries due now" in result.stdout, result.stdout + result.stderr
        catalog_service.wait_outbox_empty(DEADLINE)
        # Every entry applied, those of one row in their order.
        assert title(refused) == f"Refused {tag}, then accepted"
        assert title(triggered) == f"Refused by a trigger {tag}"
        assert catalog_service.sync_status()["outbox_parked"] == 0
    catalog_service.wait_caught_up(DEADLINE)
    assert_tables_equal(CATALOG, source_url, catalog_url)
