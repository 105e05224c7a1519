"""Track queries and writes (catalog.views.TrackViewSet and the nested artist/album track lists)."""
from __future__ import annotations

from typing import Mapping, Optional

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.catalog.album.models import Album
from services.catalog.artist.models import Artist
from services.catalog.genre.models import Genre
from services.catalog.track.models import ORDERING_FIELDS, ROW_FIELDS, Track
from services.common.filters import CharFilter, FilterSet, NumberFilter
from services.common.ordering import ordered

# catalog.filters.TrackFilter: same parameter names, lookups and field types.
TRACK_FILTERS = FilterSet(
    NumberFilter("genre", Track.genre_id),
    CharFilter("genre_slug", Genre.slug),
    NumberFilter("artist", Track.artist_id),
    NumberFilter("album", Track.album_id),
    NumberFilter("year_min", Album.release_date, "gte", "year"),
    NumberFilter("year_max", Album.release_date, "lte", "year"),
    NumberFilter("duration_min", Track.duration_ms, "gte"),
    NumberFilter("duration_max", Track.duration_ms, "lte"),
    NumberFilter("popularity_min", Track.popularity, "gte"),
    NumberFilter("tempo_min", Track.tempo, "gte", "float"),
    NumberFilter("tempo_max", Track.tempo, "lte", "float"),
    NumberFilter("energy_min", Track.energy, "gte", "float"),
    NumberFilter("energy_max", Track.energy, "lte", "float"),
    NumberFilter("valence_min", Track.valence, "gte", "float"),
    NumberFilter("valence_max", Track.valence, "lte", "float"),
    NumberFilter("price_min", Track.price, "gte", "decimal"),
    NumberFilter("price_max", Track.price, "lte", "decimal"),
    CharFilter("search", Track.title, "icontains"),
)
ORDER_COLUMNS = {name: getattr(Track, name) for name in ORDERING_FIELDS}

_album = Album.__table__.alias("album")
_genre = Genre.__table__.alias("genre")

# Everything TrackSerializer shows, in one query (select_related("artist", "album", "genre")), in
# the order track_read picks them by (ROW_FIELDS).
TRACK_COLUMNS = (
    *Track.__table__.columns,
    Artist.name.label("artist_name"), Artist.country.label("artist_country"),
    Artist.image_url.label("artist_image_url"),
    _album.c.title.label("album_title"), _album.c.release_date.label("album_release_date"),
    _album.c.cover_image_url.label("album_cover_image_url"),
    _genre.c.name.label("genre_name"), _genre.c.slug.label("genre_slug"),
)


def _with_relations(stmt: Select) -> Select:
    return (stmt.join(Artist, Artist.id == Track.artist_id)
            .outerjoin(_album, _album.c.id == Track.album_id)
            .outerjoin(_genre, _genre.c.id == Track.genre_id))


# Built once: statements are immutable, and building the column list costs more than the query.
TRACK_ROWS = _with_relations(select(*TRACK_COLUMNS))
if tuple(column.key for column in TRACK_ROWS.selected_columns) != ROW_FIELDS:
    raise RuntimeError("TRACK_COLUMNS and track.models.ROW_FIELDS disagree: track_read reads by position")
TRACK_COUNT = select(func.count()).select_from(Track)


def _filtered(stmt: Select, params: Mapping[str, str], lenient: bool = False) -> Select:
    """Filters need their own joins (Django adds INNER JOINs for album__/genre__ lookups)."""
    applied = TRACK_FILTERS.applied(params, lenient)
    if "year_min" in applied or "year_max" in applied:
        stmt = stmt.join(Album, Album.id == Track.album_id)
    if "genre_slug" in applied:
        stmt = stmt.join(Genre, Genre.id == Track.genre_id)
    return stmt.where(*applied.values())


def list_statements(params: Mapping[str, str], *, artist_id: Optional[int] = None,
                    album_id: Optional[int] = None, popular: bool = False) -> tuple[Select, Select]:
    """(rows, count) statements for a track list with the client's filters and ordering. The
    nested lists (an artist's or album's tracks) leave invalid filter values out, as the monolith
    does (it reads TrackFilter(...).qs there); the top-level lists answer them with a 400."""
    lenient = artist_id is not None or album_id is not None
    rows = _filtered(TRACK_ROWS, params, lenient)
    count = _filtered(TRACK_COUNT, params, lenient)
    if artist_id is not None:
        rows, count = rows.where(Track.artist_id == artist_id), count.where(Track.artist_id == artist_id)
    if album_id is not None:
        rows, count = rows.where(Track.album_id == album_id), count.where(Track.album_id == album_id)
    raw_ordering = params.get("ordering")
    default = ((Track.popularity.desc(), Track.id.desc()) if popular and not raw_ordering   # TrackQuerySet.popular()
               else (Track.id,))                                                          # Meta.ordering
    return ordered(rows, raw_ordering, ORDERING_FIELDS, ORDER_COLUMNS, *default), count


# The detail without filters, built once: SQLAlchemy computes its cache key once instead of
# walking a new statement (25 columns, three joins) on every request.
PLAIN_DETAIL = TRACK_ROWS.where(Track.id == bindparam("track_id"))


async def get_row(session: AsyncSession | AsyncConnection, track_id: int, params: Mapping[str, str]):
    """The detail row; like DRF's get_object the list filters in the query string apply too."""
    applied = TRACK_FILTERS.applied(params)
    if not applied:
        return (await session.execute(PLAIN_DETAIL, {"track_id": track_id})).first()
    stmt = _filtered(TRACK_ROWS, params).where(Track.id == track_id)
    return (await session.execute(stmt)).first()


async def get(session: AsyncSession, track_id: int) -> Optional[Track]:
    return await session.get(Track, track_id)
