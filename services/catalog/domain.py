"""The catalog domain as the carve kit sees it: the monolith tables it mirrors. Everything the
kit does for it (topic map, snapshot, outbox, reverse sync, echo suppression, sequences, data
versions, sync status, write ownership) is derived from this declaration."""
from __future__ import annotations

from services.catalog.account.models import AccountUser
from services.catalog.album.models import Album
from services.catalog.artist.models import Artist
from services.catalog.config import get_settings  # noqa: F401  (the kit's CLI reads it from here)
from services.catalog.database import Base
from services.catalog.genre.models import Genre
from services.catalog.track.models import Track
from services.common.carve import Domain, MirroredTable

DOMAIN = Domain("catalog", Base, tables=(
    # Only what permissions need of the monolith's users (accounts stay the monolith's).
    MirroredTable(AccountUser, "accounts_user"),
    # No updated_at: a replay overwrites the monolith's genre only if it is still what the service
    # had before its write (compare-and-set).
    MirroredTable(Genre, "catalog_genre", writable=True),
    MirroredTable(Artist, "catalog_artist", writable=True),
    MirroredTable(Album, "catalog_album", writable=True),
    MirroredTable(Track, "catalog_track", writable=True),
))
