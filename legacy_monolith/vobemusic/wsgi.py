"""WSGI entry point (gunicorn)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vobemusic.settings.dev")
application = get_wsgi_application()
