"""Settings every service shares. Values come from the environment; the defaults work for the local
stack and equal the monolith's defaults wherever the two must agree (JWT key, allowed hosts, paging)."""
from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The monolith's defaults (legacy_monolith/vobemusic/settings/base.py); they must stay equal.
DEV_JWT_SIGNING_KEY = "dev-only-jwt-signing-key-change-me-please-32b"
DEV_ALLOWED_HOSTS = "localhost,127.0.0.1,[::1],testserver"
# The internal API's shared secret for the local stack; the proxy's CLI has the same default
# (proxy/routing/handover.py), so a flip on the demo stack can hand write ownership over.
DEV_INTERNAL_TOKEN = "dev-only-internal-api-token-change-me-32b"


class ServiceSettings(BaseSettings):
    """Subclass per service and give `database_url` its own environment name, e.g.::

        class CatalogSettings(ServiceSettings):
            database_url: str = Field("postgresql+psycopg://...", validation_alias="CATALOG_DATABASE_URL")
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    service_name: str = "service"
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
    database_pool_size: int = Field(10, validation_alias=AliasChoices("DATABASE_POOL_SIZE", "database_pool_size"))

    # Tokens are issued by the monolith (rest_framework_simplejwt); the same key, algorithm and claims.
    jwt_signing_key: str = Field(DEV_JWT_SIGNING_KEY, validation_alias=AliasChoices("JWT_SIGNING_KEY", "jwt_signing_key"))
    jwt_algorithm: str = Field("HS256", validation_alias=AliasChoices("JWT_ALGORITHM", "jwt_algorithm"))
    jwt_leeway_seconds: float = Field(0, validation_alias=AliasChoices("JWT_LEEWAY_SECONDS", "jwt_leeway_seconds"))
    jwt_user_id_claim: str = "user_id"

    # Django rejects requests for hosts not listed here with a 400 page; the services do the same.
    allowed_hosts: str = Field(DEV_ALLOWED_HOSTS, validation_alias=AliasChoices("DJANGO_ALLOWED_HOSTS", "allowed_hosts"))

    page_size: int = 20
    max_page_size: int = 100

    # Shared secret for /internal/* endpoints (sync status, write ownership), sent by the proxy as
    # X-Internal-Token; empty means those endpoints only accept admin JWTs.
    internal_token: str = Field(DEV_INTERNAL_TOKEN, validation_alias=AliasChoices("INTERNAL_API_TOKEN", "internal_token"))

    log_level: str = Field("INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))

    @property
    def allowed_host_list(self) -> list[str]:
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]
