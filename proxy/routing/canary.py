"""Canary assignment: which users a `canary N%` route sends to the new service, stickily.

A client keeps its side as long as the percentage does not shrink below its bucket: the key is the
JWT subject (`user_id` claim) when a bearer token is present, else the first configured cookie
(anonymous browser sessions), else the client address. Buckets are salted with the target upstream,
so every route of one service puts the same users on the new side (their reads see their writes).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from http.cookies import CookieError, SimpleCookie
from typing import Optional

import jwt

BUCKETS = 10_000  # percent is honoured to 0.01


@lru_cache(maxsize=8192)
def jwt_subject(token: str) -> Optional[str]:
    """The user id inside a bearer token, without verifying its signature.

    Verification is not needed here: the subject only chooses which backend answers, and both the
    monolith and the new service verify the same token with the same key before trusting it. A
    forged token gains nothing but a choice of backend. Skipping it keeps the hot path cheap."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return None
    subject = claims.get("user_id", claims.get("sub"))
    return None if subject is None else str(subject)


def sticky_key(headers, client_address: str, cookie_names: tuple[str, ...]) -> tuple[str, str]:
    """(`user`|`cookie`|`address`, value) identifying the client for stickiness."""
    cookie_header = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token:
                subject = jwt_subject(token.strip())
                if subject is not None:
                    return "user", subject
        elif name == b"cookie":
            cookie_header = value if cookie_header is None else cookie_header + b"; " + value
    if cookie_header and cookie_names:
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header.decode("latin-1"))
        except CookieError:
            cookies = {}
        for name in cookie_names:
            if name in cookies and cookies[name].value:
                return "cookie", cookies[name].value
    return "address", client_address


def bucket(key: str, salt: str) -> int:
    digest = hashlib.blake2b(f"{salt}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def on_new_side(key: str, percent: float, salt: str) -> bool:
    return bucket(key, salt) < percent * (BUCKETS // 100)
