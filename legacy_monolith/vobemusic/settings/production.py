"""Production: secrets must come from the environment; refuse to start with the dev defaults."""
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403

if SECRET_KEY.startswith("dev-only") or SIMPLE_JWT["SIGNING_KEY"].startswith("dev-only"):  # noqa: F405
    raise ImproperlyConfigured("DJANGO_SECRET_KEY and JWT_SIGNING_KEY must be set in production")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
