"""Access tokens exactly as rest_framework_simplejwt mints them (same key, claims, lifetime rules)."""
from __future__ import annotations

import time
import uuid

import jwt

from services.common.settings import DEV_JWT_SIGNING_KEY


def access_token(user_id, *, lifetime: int = 900, token_type: str = "access", key: str = DEV_JWT_SIGNING_KEY,
                 drop: tuple[str, ...] = (), algorithm: str = "HS256") -> str:
    now = int(time.time())
    claims = {"token_type": token_type, "exp": now + lifetime, "iat": now, "jti": uuid.uuid4().hex,
              "user_id": user_id}
    for name in drop:
        claims.pop(name, None)
    return jwt.encode(claims, key, algorithm=algorithm)
