"""A throwaway PostgreSQL server for the test session (Debian's `postgresql` binaries).

initdb refuses to run as root, so as root the server runs as the `postgres`
user that the Debian package creates. Durability is off: it is a test server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def find_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="fillbook-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0

    def database_url(self, name: str) -> str:
        """A SQLAlchemy URL for database `name`."""
        return f"postgresql+psycopg://fillbook@127.0.0.1:{self.port}/{name}"

    def conninfo(self, name: str = "postgres") -> str:
        """A libpq connection string, for psycopg directly."""
        return f"postgresql://fillbook@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database `name` (a copy of `template`, if given); its SQLAlchemy URL."""
        import psycopg

        copy = f" TEMPLATE {template}" if template else ""
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}{copy}")
        return self.database_url(name)

    def add_password_role(self, role: str, password: str) -> None:
        """A superuser `role` that must log in with `password` (SCRAM) over TCP; every
        other role keeps `trust`. For tests that a client tool really got the password."""
        import psycopg
        from psycopg import sql

        hba = self.data / "pg_hba.conf"
        hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        with psycopg.connect(self.conninfo(), autocommit=True) as connection:
            connection.execute(
                sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            connection.execute("SELECT pg_reload_conf()")

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "fillbook",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def throwaway_database(name: str) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database `name` on a server started for it (benches)."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL's server binaries are not installed (Debian: postgresql)")
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server.create_database(name)
    finally:
        server.stop()
