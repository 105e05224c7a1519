"""The catalog's write load and read paths for the lifecycle suite (tests/carve_kit/lifecycle.py)."""
from __future__ import annotations

import uuid

import psycopg

from tests.parity.tokens import access_token


class CatalogWrites:
    """Creates, updates and deletes tracks, albums and artists; only rows it created (under an
    artist of its own), so the demo rows the reader reads stay comparable in shadow."""

    def __init__(self, monolith_url: str):
        with psycopg.connect(monolith_url) as conn:
            admin = conn.execute("SELECT id FROM accounts_user WHERE role = 'admin' ORDER BY id LIMIT 1").fetchone()[0]
        self.headers = {"Authorization": f"Bearer {access_token(admin, lifetime=3600)}"}
        self.artist_id: int | None = None
        self.mine: dict[str, list[int]] = {"tracks": [], "albums": [], "artists": []}

    def write(self, call, step: int) -> None:
        tag = uuid.uuid4().hex[:6]
        if self.artist_id is None:
            created = call("POST", "/api/v1/artists/", (201,), json={"name": f"Load Owner {tag}"}, headers=self.headers)
            if created is None:
                return
            self.artist_id = created.json()["id"]
        kind = ("tracks", "tracks", "albums", "tracks", "artists")[step % 5]
        if kind == "tracks":
            body = {"title": f"Load {tag}", "artist_id": self.artist_id, "duration_ms": 200000, "price": "0.99"}
        elif kind == "albums":
            body = {"title": f"Load Album {tag}", "artist_id": self.artist_id}
        else:
            body = {"name": f"Load Artist {tag}"}
        created = call("POST", f"/api/v1/{kind}/", (201,), json=body, headers=self.headers)
        if created is not None:
            self.mine[kind].append(created.json()["id"])
        mine = self.mine[kind]
        if len(mine) >= 2:
            field = "name" if kind == "artists" else "title"
            call("PATCH", f"/api/v1/{kind}/{mine[-2]}/", (200,), json={field: f"Patched {tag}"}, headers=self.headers)
        if step % 3 == 2 and len(mine) >= 3:
            call("DELETE", f"/api/v1/{kind}/{mine.pop(0)}/", (204,), headers=self.headers)


def catalog_reads(monolith_url: str) -> list[str]:
    """Lists and details of demo rows the load never writes."""
    with psycopg.connect(monolith_url) as conn:
        artist, album = conn.execute("SELECT artist_id, id FROM catalog_album ORDER BY id LIMIT 1").fetchone()
        track = conn.execute("SELECT id FROM catalog_track ORDER BY id LIMIT 1").fetchone()[0]
    return [f"/api/v1/tracks/{track}/", "/api/v1/tracks/?page=2", f"/api/v1/artists/{artist}/albums/",
            f"/api/v1/albums/{album}/", "/api/v1/genres/", "/api/v1/tracks/popular/"]
