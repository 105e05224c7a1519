"""The users access tokens name, as far as catalog permissions need them.

A read-only copy of accounts_user's id/role/is_staff/is_active kept by CDC (accounts stay owned by the
monolith, later the auth service). simplejwt looks the user up on every request; so do we."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from services.catalog.database import Base


class AccountUser(Base):
    __tablename__ = "account_user"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16), default="user")
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
