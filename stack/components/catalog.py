"""The catalog service (services/catalog) with its own database `catalog` in the project cluster.

`prepare` creates the database and runs its Alembic migrations; on first start the catalogue is
copied from the monolith (the carve kit's snapshot, services/common/carve/snapshot.py) so the replica
is complete before CDC streams changes. The API, the CDC apply and the reverse sync run as one
supervised unit, `services.catalog.run` (services/common/carve/run.py). Register it after the monolith and the CDC relay."""
from __future__ import annotations

import os
import subprocess

import psycopg

from stack.component import Component
from stack.components.monolith import DATABASE as MONOLITH_DATABASE
from stack.components.postgres import cluster
from stack.readiness import http_ok
from stack.settings import StackSettings

DATABASE = "catalog"


def catalog_env(settings: StackSettings) -> dict[str, str]:
    return {
        "CATALOG_DATABASE_URL": settings.database_url(DATABASE),
        "MONOLITH_DATABASE_URL": settings.database_url(MONOLITH_DATABASE),
        "KAFKA_BOOTSTRAP_SERVERS": f"{settings.host}:{settings.broker_port}",
        "PYTHONPATH": str(settings.root),
    }


def _prepare(settings: StackSettings) -> None:
    cluster(settings).ensure_database(DATABASE)
    env = {**os.environ, **catalog_env(settings)}
    subprocess.run([settings.python, "-m", "alembic", "-c", "services/catalog/alembic.ini", "upgrade", "head"],
                   cwd=settings.root, env=env, check=True)
    with psycopg.connect(settings.database_url(DATABASE)) as conn:
        empty = not conn.execute("SELECT EXISTS (SELECT 1 FROM catalog_track)").fetchone()[0]
    if empty:
        subprocess.run([settings.python, "-m", "services.common.carve.cli", "services.catalog.domain", "snapshot"],
                       cwd=settings.root, env=env, check=True)


def component(settings: StackSettings) -> Component:
    base = settings.http_url(settings.catalog_port)
    return Component(
        name="catalog",
        command=[settings.python, "-m", "services.catalog.run", "--host", settings.host,
                 "--port", str(settings.catalog_port)],
        env=catalog_env(settings),
        prepare=lambda: _prepare(settings),
        ready=http_ok(base + "/healthz"),
        urls={"catalog API": base + "/api/v1/tracks/", "catalog sync status": base + "/internal/sync-status"},
    )
