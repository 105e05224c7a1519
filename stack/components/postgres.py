"""The project's own Postgres cluster (wal_level=logical), one database per component."""
from __future__ import annotations

from stack.component import Component
from stack.postgres_cluster import SERVER_OS_USER, PostgresCluster
from stack.settings import StackSettings


def cluster(settings: StackSettings) -> PostgresCluster:
    home = settings.state_dir / "postgres"
    return PostgresCluster(home / "data", settings.postgres_port, home / "socket", settings.log_dir / "postgres.log")


def _accepts_connections(pg: PostgresCluster):
    def probe() -> bool:
        try:
            pg.wait_ready(timeout=0.5)
            return True
        except Exception:  # not up yet: any connection error means "wait"
            return False

    return probe


def component(settings: StackSettings) -> Component:
    pg = cluster(settings)
    return Component(
        name="postgres",
        command=pg.server_command(),
        user=SERVER_OS_USER,
        prepare=pg.initialise,
        ready=_accepts_connections(pg),
        urls={"postgres": pg.url("vobemusic")},
        # SIGINT is Postgres' "fast" shutdown: abort transactions, flush, exit.
        stop_signal="INT",
        stop_wait_secs=30,
    )
