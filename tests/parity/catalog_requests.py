"""A large, deterministic set of realistic catalog requests for the parity suite: every list with its
filters (valid, empty, malformed, out of range), orderings, pagination edges, details and nested
lists, trailing-slash and format-suffix paths, forwarded hosts, token problems and permission cases,
and writes (rejected and accepted)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlencode

from tests.parity.tokens import access_token

V1 = "/api/v1"


@dataclass
class CatalogRequest:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    json: Any = None
    body: Optional[bytes] = None
    mutates: bool = False

    def describe(self) -> str:
        return f"{self.method} {self.path} {sorted(self.headers)}"


@dataclass
class Actors:
    """Tokens for the users the demo data contains, resolved from the monolith's database."""

    admin: str
    user: str
    artist: str                  # an artist-role user with a linked profile
    artist_profile_id: int       # that profile
    other_artist_id: int         # a profile the artist does not own
    inactive: Optional[str] = None


def with_query(path: str, **params) -> str:
    return f"{path}?{urlencode(params)}" if params else path


TRACK_FILTER_VALUES = {
    "genre": ["1", "3", "0", "abc", "2.5", "-1", "99999999999999999999", "1e3", "nan", "inf", "", " 2 "],
    "genre_slug": ["pop", "rock", "nonexistent", "", " pop "],
    "artist": ["1", "7", "x"],
    "album": ["3", "10", "1.0", "foo"],
    "year_min": ["1990", "2010", "2000.7", "abc", "1e51"],
    "year_max": ["2000", "2020", "1995"],
    "duration_min": ["120000", "240000.5", "-5", "bad"],
    "duration_max": ["200000", "300000"],
    "popularity_min": ["50", "90", "101", "1e50"],
    "tempo_min": ["100", "120.5", "zz"],
    "tempo_max": ["130", "90.25"],
    "energy_min": ["0.5", "0.75", "one"],
    "energy_max": ["0.3", "0.9"],
    "valence_min": ["0.2", "0.8"],
    "valence_max": ["0.5"],
    "price_min": ["0.5", "1", "0.99", "x"],
    "price_max": ["0.99", "1.29", "2"],
    "search": ["love", "the", "a", "%", "_", "ZZZ-no-match", "   ", "Storm"],
}
TRACK_ORDERINGS = ["popularity", "-popularity", "duration_ms", "-duration_ms", "created_at", "-created_at",
                   "title", "-title", "price", "-price", "id", "-id", "popularity,-title", "-price,id",
                   "bogus", "-bogus,title", "popularity,bogus", "--popularity", " title ", ",", "pk", "tempo"]


def _read_requests(rng: random.Random, actors: Actors) -> list[CatalogRequest]:
    reqs: list[CatalogRequest] = []
    get = lambda path, **h: reqs.append(CatalogRequest("GET", path, dict(h)))  # noqa: E731

    # Track lists: single filters, combinations, orderings, pagination.
    for name, values in TRACK_FILTER_VALUES.items():
        for value in values:
            get(with_query(f"{V1}/tracks/", **{name: value}))
    for ordering in TRACK_ORDERINGS:
        get(with_query(f"{V1}/tracks/", ordering=ordering))
        get(with_query(f"{V1}/tracks/popular/", ordering=ordering))
    for _ in range(60):
        params = {}
        for name in rng.sample(sorted(TRACK_FILTER_VALUES), rng.randint(1, 3)):
            params[name] = rng.choice([v for v in TRACK_FILTER_VALUES[name] if v][:3])
        if rng.random() < 0.5:
            params["ordering"] = rng.choice(TRACK_ORDERINGS[:14])
        if rng.random() < 0.4:
            params["page"] = rng.choice(["1", "2", "3", "last"])
        get(with_query(f"{V1}/tracks/", **params))
        get(with_query(f"{V1}/tracks/popular/", **params))
    for page in ["1", "2", "0", "-1", "last", "999999", "abc", "1.0", "", " 2", "2 ", "+2"]:
        get(with_query(f"{V1}/tracks/", page=page))
    for size in ["1", "5", "0", "-3", "100", "101", "1000", "abc", ""]:
        get(with_query(f"{V1}/tracks/", page_size=size))
        get(with_query(f"{V1}/tracks/", page_size=size, page="2"))
    get(f"{V1}/tracks/?page=2&page=3")                      # QueryDict: the last value wins
    get(f"{V1}/tracks/?genre=1&genre=2&b=1&a=2&page=2")      # links re-encode sorted
    get(f"{V1}/tracks/?search=caf%C3%A9&page=1")
    get(f"{V1}/tracks/?search=rock+roll")
    get(f"{V1}/tracks/popular/")
    get(with_query(f"{V1}/tracks/popular/", genre="2", page="2"))

    # Details.
    for pk in ["1", "2", "17", "4999", "999999", "0", "-1", "abc", "99999999999999999999", "popular2"]:
        get(f"{V1}/tracks/{pk}/")
    for pk in ["1", "5", "999999", "x"]:
        get(f"{V1}/artists/{pk}/")
        get(f"{V1}/albums/{pk}/")
        get(f"{V1}/genres/{pk}/")
    get(with_query(f"{V1}/tracks/1/", genre="abc"))
    get(with_query(f"{V1}/tracks/1/", genre="999"))
    get(with_query(f"{V1}/tracks/1/", search="zzzz-nothing"))

    # Artists, albums, genres lists.
    for params in [{}, {"country": "us"}, {"country": "GB"}, {"country": ""}, {"name": "a"}, {"name": "lind"},
                   {"user": "3"}, {"user": "abc"}, {"ordering": "name"}, {"ordering": "-created_at"},
                   {"ordering": "bogus"}, {"page": "2"}, {"page_size": "7", "page": "3"}, {"page": "99"}]:
        get(with_query(f"{V1}/artists/", **params))
    for params in [{}, {"artist": "5"}, {"artist": "q"}, {"year_min": "2000"}, {"year_max": "1999"},
                   {"year_min": "0"}, {"title": "the"}, {"ordering": "release_date"},
                   {"ordering": "-release_date"}, {"ordering": "title"}, {"page": "last"}, {"page_size": "50"}]:
        get(with_query(f"{V1}/albums/", **params))
    for params in [{}, {"slug": "pop"}, {"slug": "nope"}, {"ordering": "-name"}, {"ordering": "id"},
                   {"ordering": "-id"}, {"page_size": "5", "page": "2"}]:
        get(with_query(f"{V1}/genres/", **params))

    # Navigation artist -> albums -> tracks, including filters that apply to the parent lookup.
    for artist in ["1", "2", "10", "999999", "z"]:
        get(f"{V1}/artists/{artist}/albums/")
        get(f"{V1}/artists/{artist}/tracks/")
    for params in [{"ordering": "-release_date"}, {"title": "a"}, {"name": "zzzz"}, {"user": "bad"},
                   {"year_min": "2005"}, {"page_size": "2", "page": "2"}]:
        get(with_query(f"{V1}/artists/3/albums/", **params))
    # The artist's 404 before the album filters' errors, the count with every page, invalid pages.
    for artist in ["3", "999999"]:
        for params in [{"page": "last"}, {"page_size": "1", "page": "last"}, {"page_size": "1", "page": "2"},
                       {"page": "9"}, {"page": "x"}, {"page": "0"}, {"year_min": "x"}, {"year_min": "0"},
                       {"name": "zzzz", "page": "2"}, {"title": "zzzz"}]:
            get(with_query(f"{V1}/artists/{artist}/albums/", **params))
    for params in [{"ordering": "-popularity"}, {"genre": "2"}, {"country": "zz"}, {"page": "2"}]:
        get(with_query(f"{V1}/artists/4/tracks/", **params))
    # Nested lists leave invalid filter values out (TrackFilter(...).qs), the join of a year filter too.
    for params in [{"genre": "x"}, {"year_min": "x"}, {"genre_slug": "a\x00b"}, {"duration_min": "1e51"}]:
        get(with_query(f"{V1}/artists/4/tracks/", **params))
        get(with_query(f"{V1}/albums/3/tracks/", **params))
    for album in ["1", "2", "3", "999999"]:
        get(f"{V1}/albums/{album}/tracks/")
    get(with_query(f"{V1}/albums/3/tracks/", artist="999"))
    get(with_query(f"{V1}/albums/3/tracks/", ordering="-duration_ms"))

    # URL shapes: APPEND_SLASH, format suffixes, unknown paths.
    for path in [f"{V1}/tracks", f"{V1}/tracks?page=2", f"{V1}/tracks/5", f"{V1}/tracks/popular",
                 f"{V1}/artists/3/albums", f"{V1}/tracks.json", f"{V1}/tracks/5.json", f"{V1}/tracks/5.json/",
                 f"{V1}/tracks/popular.json", f"{V1}/tracks.json?page=2", f"{V1}/tracks/5.xml",
                 f"{V1}/tracks/?format=json", f"{V1}/tracks/?format=xml", f"{V1}/tracks/5/extra/",
                 f"{V1}/tracks/5/extra", f"{V1}/genres/1/tracks/", f"{V1}/tracks//", f"{V1}/tracksx/",
                 f"{V1}/albums/2/tracks.json"]:
        get(path)

    # Forwarded host/proto and content negotiation.
    for headers in [{"X-Forwarded-Host": "localhost:8080"}, {"X-Forwarded-Host": "localhost", "X-Forwarded-Proto": "https"},
                    {"X-Forwarded-Proto": "https, http"}, {"X-Forwarded-Proto": "HTTPS"},
                    {"X-Forwarded-Host": "evil.example.com"}, {"Host": "evil.example.com"},
                    {"X-Forwarded-Host": "localhost:8080, proxy"}, {"Accept": "application/json"},
                    {"Accept": "application/xml"}, {"Accept": "*/*"}, {"Accept": "application/json; indent=4"}]:
        reqs.append(CatalogRequest("GET", f"{V1}/tracks/?page=2&genre=1", headers))

    # Tokens: reads authenticate eagerly.
    bad_tokens = {
        "garbage": "Bearer not.a.token",
        "wrong key": "Bearer " + access_token(1, key="another-signing-key-of-enough-length-32b"),
        "expired": "Bearer " + access_token(1, lifetime=-60),
        "refresh type": "Bearer " + access_token(1, token_type="refresh"),
        "no type": "Bearer " + access_token(1, drop=("token_type",)),
        "no jti": "Bearer " + access_token(1, drop=("jti",)),
        "no exp": "Bearer " + access_token(1, drop=("exp",)),
        "no user claim": "Bearer " + access_token(1, drop=("user_id",)),
        "unknown user": "Bearer " + access_token(987654),
        "three parts": "Bearer a b",
        "bearer only": "Bearer",
        "basic": "Basic dXNlcjpwYXNz",
        "empty": "",
        "lowercase bearer": "bearer " + access_token(1),
        "valid user": "Bearer " + actors.user,
        "valid admin": "Bearer " + actors.admin,
    }
    for header in bad_tokens.values():
        reqs.append(CatalogRequest("GET", f"{V1}/tracks/1/", {"Authorization": header}))
    if actors.inactive:
        reqs.append(CatalogRequest("GET", f"{V1}/genres/", {"Authorization": "Bearer " + actors.inactive}))
    return reqs


def _write_requests(actors: Actors) -> list[CatalogRequest]:
    reqs: list[CatalogRequest] = []
    admin = {"Authorization": "Bearer " + actors.admin}
    user = {"Authorization": "Bearer " + actors.user}
    artist = {"Authorization": "Bearer " + actors.artist}

    def write(method, path, headers=None, body=None, raw=None, content_type="application/json", mutates=False):
        h = dict(headers or {})
        if raw is not None or body is not None:
            h["Content-Type"] = content_type
        reqs.append(CatalogRequest(method, path, h, body, raw, mutates))

    good_track = {"title": "Parity Song", "artist_id": actors.artist_profile_id, "duration_ms": 200000}
    # Permissions: anonymous, plain user, artist for someone else's profile.
    for resource, body in [("tracks", good_track), ("genres", {"name": "Parity", "slug": "parity"}),
                           ("artists", {"name": "Parity Artist"}), ("albums", {"title": "P", "artist_id": 1})]:
        write("POST", f"{V1}/{resource}/", None, body)
        write("POST", f"{V1}/{resource}/", user, body)
        write("DELETE", f"{V1}/{resource}/1/")
        write("DELETE", f"{V1}/{resource}/1/", user)
        write("PATCH", f"{V1}/{resource}/1/", user, {"title": "x"})
        write("DELETE", f"{V1}/{resource}/", admin)            # 405 on the list route
        write("POST", f"{V1}/{resource}/1/", admin, {})         # 405 on the detail route
        write("PUT", f"{V1}/{resource}/", None, {})             # 401 before 405
    write("POST", f"{V1}/genres/", artist, {"name": "Parity", "slug": "parity"})     # artists cannot add genres
    write("POST", f"{V1}/tracks/", artist, {**good_track, "artist_id": actors.other_artist_id})
    write("PATCH", f"{V1}/tracks/1/", artist, {"title": "not mine"})
    write("POST", f"{V1}/albums/", artist, {"title": "Mine?", "artist_id": actors.other_artist_id})
    write("POST", f"{V1}/tracks/popular/", admin, {})
    write("POST", f"{V1}/artists/3/albums/", admin, {})

    # Validation errors (admin), none of which stores anything.
    invalid_tracks = [
        {}, {"title": ""}, {"title": "   "}, {"title": None}, {"title": "x" * 201}, {"title": ["list"]},
        {"title": True}, {"title": 5, "artist_id": 1, "duration_ms": 5000, "album_id": 999999},
        {**good_track, "artist_id": 999999}, {**good_track, "artist_id": "abc"}, {**good_track, "artist_id": True},
        {**good_track, "artist_id": [1]}, {**good_track, "duration_ms": 999}, {**good_track, "duration_ms": "abc"},
        {**good_track, "duration_ms": 5.5}, {**good_track, "duration_ms": 86400001}, {**good_track, "duration_ms": "7000.0"},
        {**good_track, "popularity": 101}, {**good_track, "popularity": -1}, {**good_track, "tempo": 0.5},
        {**good_track, "tempo": "fast"}, {**good_track, "energy": 1.5}, {**good_track, "valence": -0.1},
        {**good_track, "price": "1.999"}, {**good_track, "price": "1234567.00"}, {**good_track, "price": "abc"},
        {**good_track, "price": -1}, {**good_track, "price": "NaN"}, {**good_track, "file_path": "p" * 501},
        {**good_track, "genre_id": 999999}, {**good_track, "album_id": "x"},
        {**good_track, "artist_id": 1, "album_id": 2},
    ]
    for body in invalid_tracks:
        write("POST", f"{V1}/tracks/", admin, body)
    for body in [{}, {"name": "Pop", "slug": "new-pop"}, {"name": "New", "slug": "pop"}, {"name": "New", "slug": "bad slug!"},
                 {"name": "n" * 101, "slug": "s"}, {"name": None, "slug": None}]:
        write("POST", f"{V1}/genres/", admin, body)
    for body in [{}, {"name": ""}, {"name": "A", "country": "USA"}, {"name": "A", "country": "1x"},
                 {"name": "A", "image_url": "not a url"}, {"name": "A", "image_url": "ftp://files.example.com/a.jpg", "user": 999999},
                 {"name": "A", "user": "x"}]:
        write("POST", f"{V1}/artists/", admin, body)
    write("POST", f"{V1}/artists/", artist, {"name": "Linked elsewhere", "user": 1})
    for body in [{}, {"title": "T", "artist_id": 1, "release_date": "2020-13-01"},
                 {"title": "T", "artist_id": 1, "release_date": "01/02/2020"}, {"title": "T", "artist_id": 1, "release_date": 2020},
                 {"title": "T", "artist_id": 1, "cover_image_url": "http://"}]:
        write("POST", f"{V1}/albums/", admin, body)
    for body in [[1, 2], "text", 5, None]:
        write("POST", f"{V1}/tracks/", admin, body)
    write("POST", f"{V1}/tracks/", admin, raw=b"{bad json")
    write("POST", f"{V1}/tracks/", admin, raw=b'{"title": NaN}')
    write("POST", f"{V1}/tracks/", admin, raw=b"title=x", content_type="text/plain")
    write("PATCH", f"{V1}/tracks/999999/", admin, {"title": "missing"})
    write("PATCH", f"{V1}/tracks/abc/", admin, {"title": "missing"})
    write("PUT", f"{V1}/tracks/1/", admin, {"title": "put needs all fields"})

    # Accepted writes, applied in the same order to both sides (same ids, same results).
    write("POST", f"{V1}/genres/", admin, {"name": "Parity Wave", "slug": "parity-wave", "description": "d"}, mutates=True)
    write("POST", f"{V1}/artists/", admin, {"name": "Parity Artist", "country": "se", "bio": "b"}, mutates=True)
    write("POST", f"{V1}/artists/", artist, {"name": "Second profile"}, mutates=True)
    write("POST", f"{V1}/albums/", artist, {"title": "Own album", "artist_id": actors.artist_profile_id,
                                              "release_date": "2024-02-29"}, mutates=True)
    write("POST", f"{V1}/tracks/", artist, {**good_track, "price": "1.5", "tempo": 120, "energy": "0.5"}, mutates=True)
    write("PATCH", f"{V1}/tracks/1/", admin, {"popularity": 99, "genre_id": None}, mutates=True)
    write("PUT", f"{V1}/genres/2/", admin, {"name": "Renamed", "slug": "renamed"}, mutates=True)
    write("PATCH", f"{V1}/artists/{actors.artist_profile_id}/", artist, {"bio": "updated by owner"}, mutates=True)
    write("DELETE", f"{V1}/tracks/2/", admin, mutates=True)
    write("DELETE", f"{V1}/albums/5/", admin, mutates=True)
    write("DELETE", f"{V1}/genres/3/", admin, mutates=True)
    return reqs


def catalog_requests(actors: Actors, seed: int = 7) -> list[CatalogRequest]:
    rng = random.Random(seed)
    reads = _read_requests(rng, actors)
    writes = _write_requests(actors)
    # Reads again after the writes: the changed rows must look the same on both sides.
    after = [CatalogRequest("GET", p) for p in (
        f"{V1}/tracks/1/", f"{V1}/tracks/2/", f"{V1}/genres/", f"{V1}/tracks/?genre=3", f"{V1}/albums/5/",
        f"{V1}/artists/{actors.artist_profile_id}/", f"{V1}/tracks/?ordering=-id", f"{V1}/artists/?ordering=-id",
        f"{V1}/albums/?ordering=-id", f"{V1}/genres/?ordering=-id")]
    return reads + writes + after
