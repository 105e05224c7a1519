"""/artists/{id}/albums/ (ArtistViewSet.albums) in one query where it can be.

DRF looks the artist up (get_object, with the ArtistFilter of the query string), then pages its
albums (AlbumFilter, ordering) with a count. An artist has a handful of albums, so the page's
rows carry the count of the whole list (count(*) OVER ()) and rows found mean the artist is there:
one indexed query. Only an empty page needs the separate lookup, to tell "no albums" from the
artist's 404; ?page=last and malformed pages take the general path (lookup, count, page)."""
from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request

from services.catalog.album import service as albums
from services.catalog.album.models import ORDERING_FIELDS, Album, album_read
from services.catalog.artist.service import ARTIST_FILTERS, existing_id
from services.catalog.listing import COUNTS
from services.common.filters import ServerError
from services.common.ordering import ordered, requested_ordering
from services.common.pagination import PageRequest, paginate_query, paginate_with_total, with_total

ROWS_WITH_TOTAL = with_total(albums.ALBUM_ROWS)
# The plain request (no filters, default ordering) as one statement built once: SQLAlchemy then
# computes its cache key once, instead of walking a new statement on every request.
PLAIN_PAGE = (ROWS_WITH_TOTAL.where(Album.artist_id == bindparam("artist_id")).order_by(Album.id)
              .offset(bindparam("offset")).limit(bindparam("limit")))


async def albums_page(request: Request, conn: AsyncConnection, paging: PageRequest, artist_id: int) -> dict:
    params = request.query_params
    artist_conditions = ARTIST_FILTERS.conditions(params)      # get_object's filter errors come first
    try:
        # Invalid values are left out, as AlbumFilter(...).qs does in the monolith's nested list.
        album_conditions = albums.ALBUM_FILTERS.conditions(params, lenient=True)
    except ServerError:
        await existing_id(conn, artist_id, params)             # the artist's 404 comes first
        raise
    raw_ordering = params.get("ordering")
    if artist_conditions or album_conditions or requested_ordering(raw_ordering, ORDERING_FIELDS):
        rows = ordered(ROWS_WITH_TOTAL.where(Album.artist_id == artist_id, *artist_conditions, *album_conditions),
                       raw_ordering, ORDERING_FIELDS, albums.ORDER_COLUMNS, Album.id)

        async def fetch(offset: int, limit: int):
            return (await conn.execute(rows.offset(offset).limit(limit))).all()
    else:
        async def fetch(offset: int, limit: int):
            return (await conn.execute(PLAIN_PAGE, {"artist_id": artist_id, "offset": offset, "limit": limit})).all()

    async def artist_must_exist() -> None:
        await existing_id(conn, artist_id, params)

    body = await paginate_with_total(request, paging, fetch, album_read, when_empty=artist_must_exist)
    if body is None:
        await existing_id(conn, artist_id, params)
        rows, count = albums.list_statements(params, artist_id=artist_id)
        body = await paginate_query(request, conn, paging, rows, count, album_read, counts=COUNTS)
    return body
