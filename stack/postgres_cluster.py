"""A Postgres cluster owned by the project: created under an ignored folder with logical
decoding enabled, so Debezium can stream from it, and reachable over TCP on its own port.

Used by the stack supervisor (which runs the server in the foreground) and by the test
suite (which starts a throwaway cluster with pg_ctl)."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

# The server refuses to run as root; when we are root it runs as this OS user.
SERVER_OS_USER = os.environ.get("VOBE_PG_OS_USER", "postgres")

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "wal_level": "logical",
    "max_wal_senders": "20",
    "max_replication_slots": "20",
    "max_connections": "200",
    "shared_buffers": "'256MB'",
    # Demo data loads and benchmarks rewrite whole tables; durability of a dev cluster is not
    # worth the fsync cost, replication correctness does not depend on it. synchronous_commit stays
    # on: with it off, logical decoding sees a commit only at the WAL writer's next flush (up to
    # 200 ms later), which would dominate commit -> consumed latency.
    "fsync": "off",
    "full_page_writes": "off",
    "max_wal_size": "'4GB'",
    "log_min_messages": "warning",
}


def postgres_bin_dir() -> Path:
    """Newest installed PostgreSQL server binaries (Debian keeps them out of PATH)."""
    explicit = os.environ.get("VOBE_PG_BIN")
    if explicit:
        return Path(explicit)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if candidates:
        return Path(candidates[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError("PostgreSQL server binaries not found: install the postgresql package")


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_OS_USER, "--", *command]


@dataclass
class PostgresCluster:
    data_dir: Path
    port: int
    socket_dir: Path
    log_file: Path

    @property
    def bin_dir(self) -> Path:
        return postgres_bin_dir()

    # -- lifecycle -------------------------------------------------------------------------
    def initialise(self) -> bool:
        """Create the cluster if it does not exist yet; returns True when it was created."""
        self._let_server_user_reach(self.data_dir.parent)
        for folder in (self.data_dir.parent, self.socket_dir, self.log_file.parent):
            folder.mkdir(parents=True, exist_ok=True)
            self._hand_to_server_user(folder)
        if (self.data_dir / "PG_VERSION").exists():
            self._write_settings()
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._hand_to_server_user(self.data_dir)
        subprocess.run(
            _as_server_user([
                str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
            ]),
            check=True, stdout=subprocess.DEVNULL,
        )
        self._write_settings()
        return True

    def server_command(self) -> list[str]:
        """The foreground server command a supervisor runs (as the server OS user)."""
        return [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]

    def start(self, timeout: float = 30) -> None:
        """Start in the background with pg_ctl (tests); the stack runs server_command instead."""
        subprocess.run(
            _as_server_user([
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                "-w", "-t", str(int(timeout)), "start",
            ]),
            check=True, stdout=subprocess.DEVNULL,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"]),
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    # -- databases -------------------------------------------------------------------------
    def url(self, database: str, driver: str = "postgresql") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, name: str) -> bool:
        """Create the database if missing; returns True when it was created."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists:
                return False
            conn.execute(f'CREATE DATABASE "{name}"')
            return True

    # -- internals -------------------------------------------------------------------------
    def _write_settings(self) -> None:
        settings = dict(SERVER_SETTINGS, port=str(self.port), unix_socket_directories=f"'{self.socket_dir}'")
        lines = [f"{key} = {value}" for key, value in settings.items()]
        conf = self.data_dir / "vobemusic.conf"
        conf.write_text("# written by stack/postgres_cluster.py on every start\n" + "\n".join(lines) + "\n")
        self._hand_to_server_user(conf)
        main_conf = self.data_dir / "postgresql.conf"
        include = "include_if_exists = 'vobemusic.conf'"
        text = main_conf.read_text()
        if include not in text:
            main_conf.write_text(text + f"\n{include}\n")
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
            "local replication all trust\n"
            "host replication all 127.0.0.1/32 trust\n"
        )
        self._hand_to_server_user(hba)

    @staticmethod
    def _let_server_user_reach(folder: Path) -> None:
        """A checkout in a private folder (mktemp -d makes 0700) hides the cluster from the server's
        OS user; grant traverse-only permission (o+x, no listing or reading) on such ancestors."""
        if os.geteuid() != 0:
            return
        server_uid = pwd.getpwnam(SERVER_OS_USER).pw_uid
        for ancestor in [folder, *folder.parents]:
            if not ancestor.exists():
                continue
            info = ancestor.stat()
            if info.st_uid != server_uid and not info.st_mode & stat.S_IXOTH:
                ancestor.chmod(stat.S_IMODE(info.st_mode) | stat.S_IXOTH)

    @staticmethod
    def _hand_to_server_user(path: Path) -> None:
        if os.geteuid() != 0:
            return
        entry = pwd.getpwnam(SERVER_OS_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
        if path.is_dir():
            path.chmod(0o700 if path.name == "data" else 0o755)
