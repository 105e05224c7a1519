"""Which documents a changed row touches, and assembling documents from replica rows.

A track document embeds its artist, album and genre; an album its artist; a post its author's
username and display name. So a renamed artist re-renders the artist, its albums and its tracks.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping

from sqlalchemy.engine import Connection

from services.search import documents
from services.search.documents import SearchDocument
from services.search.replica import Replica

# changed entity -> [(document kind, replica entity holding the reference, referencing column)]
CASCADES: dict[str, list[tuple[str, str, str]]] = {
    "artist": [("album", "album", "artist_id"), ("track", "track", "artist_id")],
    "album": [("track", "track", "album_id")],
    "genre": [("track", "track", "genre_id")],
    "user": [("post", "post", "author_id")],
}
DOCUMENT_ENTITIES = ("track", "artist", "album", "post")


def affected_documents(conn: Connection, replica: Replica, changed: Mapping[str, Iterable[int]]) -> dict[str, set[int]]:
    dirty: dict[str, set[int]] = defaultdict(set)
    for entity, ids in changed.items():
        ids = set(ids)
        if not ids:
            continue
        if entity in DOCUMENT_ENTITIES:
            dirty[entity] |= ids
        if entity == "profile":
            # A profile row's own id is not the user's: follow it to the user, then to posts.
            users = replica.references(conn, "profile", "user_id", ids)
            dirty["post"] |= replica.ids_referencing(conn, "post", "author_id", users)
        for kind, entity_table, column in CASCADES.get(entity, ()):
            dirty[kind] |= replica.ids_referencing(conn, entity_table, column, ids)
    return dirty


def assemble(conn: Connection, replica: Replica, kind: str, ids: Iterable[int]) -> tuple[list[SearchDocument], list[int]]:
    """Documents for `ids` of one kind, and the ids that must not be in the index (row gone, or a
    post that is not published)."""
    ids = set(ids)
    build = {"track": _tracks, "artist": _artists, "album": _albums, "post": _posts}[kind]
    docs = build(conn, replica, ids)
    present = {doc.id for doc in docs}
    return docs, sorted(ids - present)


def _tracks(conn, replica, ids):
    tracks = replica.rows(conn, "track", ids)
    artists = replica.rows(conn, "artist", {t["artist_id"] for t in tracks.values()})
    albums = replica.rows(conn, "album", {t["album_id"] for t in tracks.values() if t["album_id"]})
    genres = replica.rows(conn, "genre", {t["genre_id"] for t in tracks.values() if t["genre_id"]})
    docs = []
    for track in tracks.values():
        artist = artists.get(track["artist_id"])
        if artist is None:  # the artist's event has not arrived yet; its arrival re-renders this track
            continue
        docs.append(documents.track_document(track, artist, albums.get(track["album_id"]), genres.get(track["genre_id"])))
    return docs


def _artists(conn, replica, ids):
    return [documents.artist_document(row) for row in replica.rows(conn, "artist", ids).values()]


def _albums(conn, replica, ids):
    albums = replica.rows(conn, "album", ids)
    artists = replica.rows(conn, "artist", {a["artist_id"] for a in albums.values()})
    return [documents.album_document(album, artists[album["artist_id"]])
            for album in albums.values() if album["artist_id"] in artists]


def _posts(conn, replica, ids):
    posts = {pk: p for pk, p in replica.rows(conn, "post", ids).items() if p["is_published"]}
    authors = {p["author_id"] for p in posts.values()}
    users = replica.rows(conn, "user", authors)
    profiles = {}
    if authors:
        profile_ids = replica.ids_referencing(conn, "profile", "user_id", authors)
        profiles = {p["user_id"]: p for p in replica.rows(conn, "profile", profile_ids).values()}
    return [documents.post_document(post, users.get(post["author_id"]), profiles.get(post["author_id"]))
            for post in posts.values()]
