"""What every FastAPI service shares so that it answers exactly like the DRF monolith.

One implementation each, imported by every service, never copied:
- `settings`      ServiceSettings (pydantic-settings) with the monolith-compatible defaults
- `app`           create_app(): /healthz /readyz /metrics, JSON logs, error handlers, host checks
- `database`      SQLAlchemy 2 async engine + session dependency (psycopg 3)
- `errors`        DRF-compatible exceptions and error bodies ({"detail": ...}, {"field": [...]})
- `auth`          simplejwt-compatible access-token authentication and DRF's 401/403 bodies
- `pagination`    DRF PageNumberPagination envelope {count, next, previous, results} and links
- `public_url`    absolute URLs the way Django builds them (X-Forwarded-Host/Proto, ALLOWED_HOSTS)
- `filters`       django-filter compatible query-string filters with DRF's error messages
- `ordering`      the monolith's StableOrderingFilter (?ordering=..., id tie-breaker)
- `formats`       DRF's datetime / date / decimal representations
- `django_urls`   Django's APPEND_SLASH redirect and its HTML 404/400/500 pages
"""

# Stable API for other services (import from the submodules):
#   from services.common.app import create_app
#   from services.common.settings import ServiceSettings
#   from services.common.database import Database, declarative_base
#   from services.common.auth import Authenticator, Principal, TokenSettings, permission_denied
#   from services.common.pagination import page_request, paginate
#   from services.common.filters import FilterSet, NumberFilter, CharFilter
#   from services.common.ordering import requested_ordering, order_by_clauses
#   from services.common.errors import NotFound, ValidationError, PermissionDenied, not_found_for
#   from services.common.formats import drf_datetime, drf_date, drf_decimal
