"""Request size limits, the same as the monolith's (legacy_monolith/vobemusic/request_limits.py).

- Body: `VOBE_MAX_BODY_BYTES` (default 2 MiB; the monolith's DATA_UPLOAD_MAX_MEMORY_SIZE reads the
  same variable). A larger body is a 413 `{"detail": "Request body is too large."}`, decided from
  Content-Length before the app runs, or while the body streams in (chunked, or a Content-Length
  that lies) as soon as the count passes the limit.
- Header fields: `VOBE_MAX_HEADER_BYTES` (default 8000, name plus value of one field: below
  gunicorn's limit_request_field_size of 8190, so the monolith's own answer is the one clients see)
  and at most MAX_HEADER_FIELDS fields (gunicorn's limit_request_fields). Over either: a 431
  `{"detail": "Request header fields are too large."}`."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.responses import dumps

DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_HEADER_BYTES = 8000
MAX_HEADER_FIELDS = 100
BODY_TOO_LARGE = {"detail": "Request body is too large."}
HEADERS_TOO_LARGE = {"detail": "Request header fields are too large."}


class _BodyTooLarge(Exception):
    pass


async def _answer(send: Send, status: int, body: dict) -> None:
    content = dumps(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})


class RequestLimits:
    """ASGI middleware, outermost in create_app() so every path of every service has it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_header_bytes: int,
                 max_header_fields: int = MAX_HEADER_FIELDS):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes
        self.max_header_fields = max_header_fields

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        if len(headers) > self.max_header_fields or any(
                len(name) + len(value) > self.max_header_bytes for name, value in headers):
            await _answer(send, 431, HEADERS_TOO_LARGE)
            return
        limit = self.max_body_bytes
        for name, value in headers:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    continue
                if declared > limit:
                    await _answer(send, 413, BODY_TOO_LARGE)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _answer(send, 413, BODY_TOO_LARGE)
