"""What the proxy checks in a client's request head and what it sends upstream instead.

Hop-by-hop headers (RFC 9110 section 7.6.1, plus any named in `Connection`) belong to one
connection and are dropped; the original `Host` is kept so upstreams build the same absolute
links; `X-Forwarded-For/Proto/Host` say who asked and how. Repeated headers and cookies pass
through unchanged and in order."""
from __future__ import annotations

import random
import re
from typing import Optional

HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate", b"proxy-authorization",
    b"te", b"trailer", b"transfer-encoding", b"upgrade",
})
# Also not forwarded: the proxy has already answered `Expect: 100-continue` to the client itself.
_DROP_REQUEST = HOP_BY_HOP | {b"expect"}
_FORWARDED = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"})

# reg-name or IPv4 (RFC 3986 unreserved / sub-delims / pct-encoded) or an IPv6 literal, then a port.
_HOST = re.compile(rb"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::[0-9]{1,5})?$")


class RequestRejected(Exception):
    def __init__(self, status: int, detail: str, code: str):
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code


class RequestGuard:
    """Limits and sanity checks applied before a request is routed."""

    def __init__(self, max_header_bytes: int, allowed_hosts: list[str]):
        self.max_header_bytes = max_header_bytes
        self.any_host = "*" in allowed_hosts
        self.exact_hosts = frozenset(h for h in allowed_hosts if not h.startswith("."))
        self.suffixes = tuple(h for h in allowed_hosts if h.startswith("."))

    def check(self, scope: dict) -> bytes:
        """Return the Host header value, or raise RequestRejected (431 / 400)."""
        size = len(scope["raw_path"]) + len(scope["query_string"])
        host: Optional[bytes] = None
        hosts = 0
        for name, value in scope["headers"]:
            size += len(name) + len(value) + 4
            if name == b"host":
                host = value
                hosts += 1
        if size > self.max_header_bytes:
            raise RequestRejected(431, "Request header fields too large.", "headers_too_large")
        if hosts != 1:
            if hosts == 0 and scope.get("http_version") == "1.0":
                return b""
            raise RequestRejected(400, "Bad request: exactly one Host header is required.", "bad_host")
        if len(host) > 255 or not _HOST.match(host):
            raise RequestRejected(400, "Bad request: invalid Host header.", "bad_host")
        if not self.any_host:
            name = host.decode("ascii").lower()
            name = name.rsplit(":", 1)[0] if not name.endswith("]") else name
            if name not in self.exact_hosts and not any(name.endswith(s) or name == s[1:] for s in self.suffixes):
                raise RequestRejected(400, "Bad request: invalid Host header.", "disallowed_host")
        return host


def upstream_headers(scope: dict, host: bytes, trust_forwarded: bool) -> tuple[list[tuple[bytes, bytes]], str]:
    """Headers for the upstream request, as bytes the upstream client writes as they are, and the
    request id they carry."""
    connection_tokens: set[bytes] = set()
    for name, value in scope["headers"]:
        if name == b"connection":
            connection_tokens.update(t.strip().lower() for t in value.split(b","))
    out: list[tuple[bytes, bytes]] = []
    incoming: dict[bytes, bytes] = {}
    request_id = None
    for name, value in scope["headers"]:
        if name in _DROP_REQUEST or name in connection_tokens:
            continue
        if name in _FORWARDED:
            incoming[name] = incoming[name] + b", " + value if name in incoming else value
            continue
        if name == b"x-request-id":
            request_id = value.decode("latin-1")
        out.append((name, value))
    client = scope.get("client")
    client_addr = client[0].encode("latin-1") if client else b""
    if trust_forwarded and b"x-forwarded-for" in incoming:
        forwarded_for = incoming[b"x-forwarded-for"] + b", " + client_addr
    else:
        forwarded_for = client_addr
    proto = incoming.get(b"x-forwarded-proto", b"") if trust_forwarded else b""
    forwarded_host = incoming.get(b"x-forwarded-host", b"") if trust_forwarded else b""
    out.append((b"X-Forwarded-For", forwarded_for))
    out.append((b"X-Forwarded-Proto", proto or scope.get("scheme", "http").encode("latin-1")))
    out.append((b"X-Forwarded-Host", forwarded_host or host))
    if request_id is None:
        # Only needs to be unique enough to trace a request: no urandom syscall per request.
        request_id = f"{random.getrandbits(128):032x}"
        out.append((b"X-Request-ID", request_id.encode("ascii")))
    return out, request_id


# CDC-aware shadowing (docs/proxy.md): the proxy asks legacy for the WAL position its answer
# reflects on requests it mirrors; the answer carries it in WAL_LSN_HEADER, never shown to clients.
WANT_WAL_LSN = (b"x-vobe-want-wal-lsn", b"1")
WAL_LSN_HEADER = b"x-vobe-wal-lsn"
_PRIVATE_RESPONSE = frozenset({WAL_LSN_HEADER})


def response_headers(raw_headers) -> list[tuple[bytes, bytes]]:
    """The upstream's response headers minus hop-by-hop ones and the proxy's private ones
    (X-Vobe-Wal-Lsn), names lower-cased for ASGI."""
    connection_tokens = None
    out = []
    for name, value in raw_headers:
        lower = name.lower()
        if lower in _PRIVATE_RESPONSE:
            continue
        if lower in HOP_BY_HOP:
            if lower == b"connection":
                connection_tokens = {t.strip().lower() for t in value.split(b",")}
            continue
        out.append((lower, value))
    if connection_tokens:
        out = [(n, v) for n, v in out if n not in connection_tokens]
    return out


def client_address(scope: dict, trust_forwarded: bool) -> str:
    """The end client's address: the first X-Forwarded-For hop when a trusted proxy is in front."""
    if trust_forwarded:
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                return value.split(b",")[0].strip().decode("latin-1")
    client = scope.get("client")
    return client[0] if client else ""
