"""Users and profiles.

Known accounts (documented in the README of the demo): ``admin`` / ``admin-password-123`` (role admin,
Django superuser, id 1) and ``demo`` / ``demo-password-123`` (role user, id 2). Every generated
listener and artist account has the password ``listener-password-123``."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.hashers import make_password

from demo_data.context import GenerationContext
from demo_data.words import COUNTRIES, FIRST_NAMES, LAST_NAMES

TABLES = ["accounts_user", "accounts_profile"]

ADMIN = ("admin", "admin-password-123")
DEMO = ("demo", "demo-password-123")
LISTENER_PASSWORD = "listener-password-123"
# Fixed salts keep the hashes, and so the rows, identical between runs with the same seed.
_SALT = "vobedemosalt"


def user_count(tracks: int) -> int:
    return max(50, tracks // 100)


def artist_account_count(ctx: GenerationContext) -> int:
    """Accounts with the artist role, linked to the first artists of the catalogue."""
    return max(1, min(user_count(ctx.tracks) // 10, max(1, ctx.tracks // 20)))


def generate(ctx: GenerationContext) -> None:
    rng = ctx.rng("accounts")
    total = user_count(ctx.tracks)
    artists = artist_account_count(ctx)
    listener_hash = make_password(LISTENER_PASSWORD, salt=_SALT)
    users, profiles = [], []
    for user_id in range(1, total + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        joined = ctx.reference_time - timedelta(seconds=rng.randrange(3 * 365 * 86400))
        if user_id == 1:
            username, password, role, staff = ADMIN[0], make_password(ADMIN[1], salt=_SALT), "admin", True
        elif user_id == 2:
            username, password, role, staff = DEMO[0], make_password(DEMO[1], salt=_SALT), "user", False
        else:
            username, password, staff = f"{first.lower()}.{last.lower()}{user_id}", listener_hash, False
            role = "artist" if user_id - 2 <= artists else "user"
        users.append((
            user_id, password, None, staff, username, first, last, f"{username}@example.com",
            staff, True, joined, role,
        ))
        profiles.append((
            user_id, user_id, f"{first} {last}", "", "", rng.choice(COUNTRIES), joined, joined,
        ))
    ctx.copy("accounts_user", [
        "id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
        "is_staff", "is_active", "date_joined", "role",
    ], users)
    ctx.copy("accounts_profile", [
        "id", "user_id", "display_name", "bio", "avatar_url", "country", "created_at", "updated_at",
    ], profiles)
    ctx.counts["users"] = total
    # Artist accounts are user ids 3 .. 3 + artists - 1; the catalogue links artist k to user k + 2.
    ctx.facts["artist_account_ids"] = range(3, 3 + artists)
