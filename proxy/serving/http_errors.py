"""Answers the proxy gives itself, in the monolith's (DRF's) error shape: `{"detail": "..."}`."""
from __future__ import annotations

import orjson

MESSAGES = {
    400: "Bad request.",
    413: "Request body too large.",
    431: "Request header fields too large.",
    502: "Bad gateway: the upstream service failed to answer.",
    503: "Service temporarily unavailable.",
    504: "Gateway timeout: the upstream service did not answer in time.",
}


async def send_error(send, status: int, detail: str | None = None, code: str = "", extra_headers=()) -> None:
    body = orjson.dumps({"detail": detail or MESSAGES.get(status, "Error.")})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    if code:
        headers.append((b"x-proxy-error", code.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
