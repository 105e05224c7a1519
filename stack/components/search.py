"""The search service (services/search): its replica in the database `search` of the project cluster,
its tantivy index under the stack's state dir (kept across restarts), and its CDC feed.

`prepare` creates the database; when there is no usable index (first start, or an index built by an
older schema version) it builds one (`python -m services.search.rebuild --if-needed`: from the
replica, or from a snapshot of the monolith when the replica is empty), so search answers completely
before CDC streams the changes. Register it after the monolith."""
from __future__ import annotations

import os
import subprocess

from stack.component import Component
from stack.components.monolith import DATABASE as MONOLITH_DATABASE
from stack.components.postgres import cluster
from stack.readiness import http_ok
from stack.settings import StackSettings

DATABASE = "search"


def search_env(settings: StackSettings) -> dict[str, str]:
    return {
        "SEARCH_DATABASE_URL": settings.database_url(DATABASE, driver="postgresql+psycopg"),
        "SEARCH_INDEX_DIR": str(settings.state_dir / "search-index"),
        "MONOLITH_DATABASE_URL": settings.database_url(MONOLITH_DATABASE),
        "KAFKA_BOOTSTRAP_SERVERS": f"{settings.host}:{settings.broker_port}",
        "SEARCH_HOST": settings.host,
        "SEARCH_PORT": str(settings.search_port),
        "PYTHONPATH": str(settings.root),
    }


def _prepare(settings: StackSettings) -> None:
    cluster(settings).ensure_database(DATABASE)
    subprocess.run([settings.python, "-m", "services.search.rebuild", "--if-needed", "--no-progress"],
                   cwd=settings.root, env={**os.environ, **search_env(settings)}, check=True)


def component(settings: StackSettings) -> Component:
    base = settings.http_url(settings.search_port)
    return Component(
        name="search",
        command=[settings.python, "-m", "services.search.app"],
        env=search_env(settings),
        prepare=lambda: _prepare(settings),
        ready=http_ok(base + "/healthz"),
        urls={"search API": base + "/api/v1/search/?q=love", "search suggest": base + "/api/v1/search/suggest/?q=lo"},
    )
