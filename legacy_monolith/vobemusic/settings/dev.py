"""Local stack: the defaults in base plus a browsable API."""
from .base import *  # noqa: F401,F403
