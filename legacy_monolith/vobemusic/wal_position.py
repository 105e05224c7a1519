"""Stamps a response with the monolith's WAL position its answer reflects, for CDC-aware shadowing.

    X-Vobe-Wal-Lsn: 0/1A2B3C4D      (pg_lsn text of pg_current_wal_lsn(), read after the view ran)

The proxy compares an answer of a CDC-fed candidate only once that candidate has applied every
change committed before this position (docs/proxy.md, "CDC-aware shadowing"), and strips the
header before the client sees the answer. Read after the request's work, so every write the view
committed, and every commit its reads could see, is before it.

`VOBE_WAL_LSN_HEADER` (settings.WAL_LSN_HEADER): `asked` (default) stamps only requests that carry
`X-Vobe-Want-Wal-Lsn: 1` (the proxy sends it on requests it mirrors), `always` every response, `off`
none. The read reuses the request's connection when the view opened one (no new connection), is
skipped inside an open transaction (ATOMIC_REQUESTS would commit later) and on any database error:
a missing header only means the proxy cannot wait, never a failed request."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection

log = logging.getLogger("vobemusic.wal_position")

RESPONSE_HEADER = "X-Vobe-Wal-Lsn"
REQUEST_HEADER = "HTTP_X_VOBE_WANT_WAL_LSN"    # X-Vobe-Want-Wal-Lsn


class WalPositionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.mode = getattr(settings, "WAL_LSN_HEADER", "asked")

    def __call__(self, request):
        response = self.get_response(request)
        if self.mode == "off" or (self.mode == "asked" and request.META.get(REQUEST_HEADER) != "1"):
            return response
        if connection.in_atomic_block:
            return response
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                response[RESPONSE_HEADER] = cursor.fetchone()[0]
        except Exception as exc:  # the answer is already made; only the stamp is missing
            log.warning("no WAL position for this response", extra={"error": str(exc)})
        return response
