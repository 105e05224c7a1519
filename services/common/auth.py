"""Access-token authentication compatible with the monolith's rest_framework_simplejwt setup.

Same key, algorithm (HS256), leeway, header (`Authorization: Bearer <token>`), claims (`user_id`,
`token_type == "access"`, `jti`, `exp`), the same checks in the same order, and the same 401 bodies:

    {"detail": "Given token not valid for any token type", "code": "token_not_valid",
     "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is expired"}]}

Blacklist semantics: simplejwt blacklists only refresh tokens (`AccessToken` has no blacklist check),
so an access token stays valid until it expires even after logout - exactly as in the monolith.

Authentication is eager, like DRF's `perform_authentication`: a bad token is a 401 even on a public GET.
The user record (role, is_staff, is_active) comes from the service's own copy of the users a token can
name, through the `UserLookup` a service supplies."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

import jwt
from starlette.requests import Request

from services.common.errors import APIError, NotAuthenticated, PermissionDenied

WWW_AUTHENTICATE = 'Bearer realm="api"'
AUTH_HEADER_TYPES = (b"Bearer",)


@dataclass(frozen=True)
class Principal:
    """The authenticated user as far as permissions need it (accounts.User's role fields)."""

    id: int
    role: str = "user"
    is_staff: bool = False
    is_active: bool = True

    @property
    def is_platform_admin(self) -> bool:
        """accounts.User.is_platform_admin: role admin or Django staff."""
        return self.role == "admin" or self.is_staff

    @property
    def is_artist(self) -> bool:
        return self.role == "artist"


UserLookup = Callable[[int], Awaitable[Optional[Principal]]]


class TokenAuthFailed(APIError):
    """simplejwt's AuthenticationFailed/InvalidToken: a dict detail with `detail` and `code`."""

    status_code = 401

    def __init__(self, detail: str, code: str, messages: Optional[list] = None):
        body: dict[str, Any] = {"detail": detail, "code": code}
        if messages is not None:
            body["messages"] = messages
        super().__init__(body, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


class _TokenError(Exception):
    pass


@dataclass(frozen=True)
class TokenSettings:
    signing_key: str
    algorithm: str = "HS256"
    leeway_seconds: float = 0
    user_id_claim: str = "user_id"


def validate_access_token(raw: bytes | str, settings: TokenSettings, now: Optional[dt.datetime] = None) -> dict:
    """rest_framework_simplejwt.tokens.AccessToken(raw): returns the payload or raises TokenAuthFailed."""
    try:
        try:
            payload = jwt.decode(
                raw, settings.signing_key, algorithms=[settings.algorithm],
                leeway=dt.timedelta(seconds=settings.leeway_seconds),
                options={"verify_aud": False, "verify_signature": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _TokenError("Token is expired") from exc
        except jwt.InvalidTokenError as exc:
            raise _TokenError("Token is invalid") from exc
        _verify_claims(payload, settings, now or dt.datetime.now(dt.timezone.utc))
    except _TokenError as exc:
        raise TokenAuthFailed(
            "Given token not valid for any token type", "token_not_valid",
            [{"token_class": "AccessToken", "token_type": "access", "message": str(exc)}],
        ) from exc
    return payload


def _verify_claims(payload: dict, settings: TokenSettings, now: dt.datetime) -> None:
    # Token.verify(): exp required, then jti, then the type - in this order (the first failure wins).
    if "exp" not in payload:
        raise _TokenError("Token has no 'exp' claim")
    expires = dt.datetime.fromtimestamp(payload["exp"], tz=dt.timezone.utc)
    if expires <= now - dt.timedelta(seconds=settings.leeway_seconds):
        raise _TokenError("Token 'exp' claim has expired")
    if "jti" not in payload:
        raise _TokenError("Token has no id")
    if "token_type" not in payload:
        raise _TokenError("Token has no type")
    if payload["token_type"] != "access":
        raise _TokenError("Token has wrong type")


class Authenticator:
    """DRF's authentication step for one request: None (anonymous) or a Principal, or a 401."""

    def __init__(self, settings: TokenSettings, lookup: UserLookup):
        self.settings = settings
        self.lookup = lookup

    async def authenticate(self, request: Request) -> Optional[Principal]:
        header = request.headers.get("authorization")
        if header is None:
            return None
        parts = header.encode("latin-1").split()
        if not parts or parts[0] not in AUTH_HEADER_TYPES:
            return None  # not a JWT header: simplejwt leaves it to the next authenticator
        if len(parts) != 2:
            raise TokenAuthFailed("Authorization header must contain two space-delimited values",
                                  "bad_authorization_header")
        payload = validate_access_token(parts[1], self.settings)
        if self.settings.user_id_claim not in payload:
            raise TokenAuthFailed("Token contained no recognizable user identification", "token_not_valid")
        user = await self.lookup(_user_id(payload[self.settings.user_id_claim]))
        if user is None:
            raise TokenAuthFailed("User not found", "user_not_found")
        if not user.is_active:
            raise TokenAuthFailed("User is inactive", "user_inactive")
        return user


def _user_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # no such user; the monolith would fail the same lookup


def permission_denied(user: Optional[Principal], message: Optional[str] = None) -> APIError:
    """DRF's APIView.permission_denied: 401 with WWW-Authenticate for anonymous users, else 403."""
    if user is None:
        return NotAuthenticated(headers={"WWW-Authenticate": WWW_AUTHENTICATE})
    return PermissionDenied(message)
