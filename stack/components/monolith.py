"""The live Django monolith under gunicorn, migrated and loaded with demo data on first start."""
from __future__ import annotations

import subprocess

import psycopg

from stack.component import Component
from stack.components.postgres import cluster
from stack.readiness import http_ok
from stack.settings import StackSettings

DATABASE = "vobemusic"


def monolith_env(settings: StackSettings) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "vobemusic.settings.dev",
        "MONOLITH_DATABASE_URL": settings.database_url(DATABASE),
        "REDIS_URL": f"redis://{settings.host}:{settings.redis_port}/0",
    }


def _manage(settings: StackSettings, *args: str) -> None:
    import os

    subprocess.run(
        [settings.python, "manage.py", *args],
        cwd=settings.root / "legacy_monolith",
        env={**os.environ, **monolith_env(settings)},
        check=True,
    )


def _migrate(settings: StackSettings) -> None:
    cluster(settings).ensure_database(DATABASE)
    _manage(settings, "migrate", "--noinput", "-v", "0")
    _manage(settings, "collectstatic", "--noinput", "-v", "0")


def _load_demo_data_once(settings: StackSettings) -> None:
    with psycopg.connect(settings.database_url(DATABASE)) as conn:
        has_tracks = conn.execute("SELECT EXISTS (SELECT 1 FROM catalog_track)").fetchone()[0]
    if not has_tracks:
        print(f"  loading demo data ({settings.demo_tracks} tracks)...", flush=True)
        _manage(settings, "generate_demo_data", "--tracks", str(settings.demo_tracks))


def component(settings: StackSettings) -> Component:
    base = settings.http_url(settings.monolith_port)
    return Component(
        name="monolith",
        command=[
            settings.python, "-m", "gunicorn", "vobemusic.wsgi:application",
            "--bind", f"{settings.host}:{settings.monolith_port}",
            "--workers", "3", "--worker-class", "gthread", "--threads", "4",
            "--access-logfile", "-", "--graceful-timeout", "10",
        ],
        env=monolith_env(settings),
        cwd=settings.root / "legacy_monolith",
        prepare=lambda: _migrate(settings),
        ready=http_ok(base + "/healthz"),
        after_ready=lambda: _load_demo_data_once(settings),
        urls={
            "monolith API": base + "/api/v1/",
            "monolith OpenAPI docs": base + "/api/docs/",
            "monolith admin": base + "/admin/",
        },
    )
