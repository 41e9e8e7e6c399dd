"""`python -m backend backup/restore`: a consistent copy while a live server ingests."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
import pytest

from backend.journal.backup import (
    BackupError,
    passfile_line,
    pg_dump_command,
    pg_environment,
    pg_restore_command,
)
from tests.live_server import PROJECT_ROOT, LiveServer
from tests.postgres_server import PostgresServer

BATCH = 50


def _cli(
    database_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
    return subprocess.run([sys.executable, "-m", "backend", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def _fills(number: int) -> list[dict[str, object]]:
    side = "buy" if number % 2 == 0 else "sell"
    return [{"type": "execution", "id": f"b{number}-{i}", "ts": 1_704_189_600_000_000_000 + number * 1_000_000 + i,
             "symbol": "ES", "side": side, "qty": 1, "price": 100.0} for i in range(BATCH)]  # fmt: skip


def _executions(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        count = int(connection.execute("SELECT COUNT(*) FROM execution").fetchone()[0])
    connection.close()
    return count


class TestSqliteBackup:
    def test_backup_while_ingesting_then_restore(self, tmp_path: Path) -> None:
        server = LiveServer(tmp_path / "live")
        backup = tmp_path / "backups" / "fillbook.db"
        with server:
            account = server.create_account("alice")
            stop, sent, errors = threading.Event(), [0], []

            def ingest() -> None:
                with httpx.Client(base_url=server.url, headers=account.ingest_headers, timeout=30) as http:
                    while not stop.is_set():
                        body = {"source": "s", "run": {"key": "r", "strategy": "x", "mode": "live"},
                                "events": _fills(sent[0])}  # fmt: skip
                        response = http.post("/api/ingest", json=body)
                        if response.status_code != 200:
                            errors.append(response.text)
                        sent[0] += 1

            pusher = threading.Thread(target=ingest)
            pusher.start()
            try:
                while sent[0] < 5:
                    threading.Event().wait(0.05)
                result = _cli(server.database_url, "backup", str(backup))
                while sent[0] < 10:  # ingest goes on after the copy
                    threading.Event().wait(0.05)
            finally:
                stop.set()
                pusher.join()
            assert result.returncode == 0, result.stderr
            assert "integrity check ok" in result.stdout
            assert errors == []
        live_db = Path(server.database_url.removeprefix("sqlite:///"))
        copied, final = _executions(backup), _executions(live_db)
        assert 0 < copied < final == sent[0] * BATCH
        assert copied % BATCH == 0  # a snapshot between commits: whole batches only

        assert _cli(server.database_url, "restore", str(backup)).returncode == 0
        assert _executions(live_db) == copied
        with server:  # the restored database serves
            response = httpx.get(f"{server.url}/api/health", timeout=10)
            assert response.json()["status"] == "ok"

    def test_a_damaged_backup_is_not_restored(self, tmp_path: Path) -> None:
        target = tmp_path / "live.db"
        with sqlite3.connect(target) as connection:
            connection.execute("CREATE TABLE t (x)")
            connection.execute("INSERT INTO t VALUES (1)")
        connection.close()
        damaged = tmp_path / "damaged.db"
        damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
        result = _cli(f"sqlite:///{target}", "restore", str(damaged))
        assert result.returncode != 0
        assert "restore failed" in result.stderr
        with sqlite3.connect(target) as connection:
            assert connection.execute("SELECT x FROM t").fetchall() == [(1,)]
        connection.close()


@pytest.mark.postgres
class TestPostgresBackup:
    def test_pg_dump_then_pg_restore_into_another_database(
        self, postgres_server: PostgresServer, tmp_path: Path
    ) -> None:
        from tests.conftest import _postgres_database

        source, target = _postgres_database(postgres_server), _postgres_database(postgres_server)
        with psycopg.connect(source.replace("postgresql+psycopg", "postgresql")) as connection:
            connection.execute("INSERT INTO \"user\" (username, password_hash, role, is_active, created_at,"
                               " timezone, regime_method) VALUES ('zed', 'x', 'USER', true, now(), 'UTC', 'rules')")  # fmt: skip
        dump = tmp_path / "fillbook.dump"
        result = _cli(source, "backup", str(dump))
        if "is not installed here" in result.stderr:
            pytest.skip("pg_dump is not installed")
        assert result.returncode == 0, result.stderr
        assert _cli(target, "restore", str(dump)).returncode == 0
        with psycopg.connect(target.replace("postgresql+psycopg", "postgresql")) as connection:
            assert connection.execute("SELECT username FROM \"user\"").fetchall() == [("zed",)]

    def test_a_password_reaches_the_tools_in_a_passfile_never_in_their_arguments(
        self, postgres_server: PostgresServer, tmp_path: Path
    ) -> None:
        from tests.conftest import _postgres_database

        tools = {tool: shutil.which(tool) for tool in ("pg_dump", "pg_restore")}
        if None in tools.values():
            pytest.skip("the PostgreSQL client tools are not installed")
        token = secrets.token_hex(8)  # the part of the password no encoding changes
        role, password = f"backup_{secrets.token_hex(4)}", f"p@ss:w\\d {token}"
        postgres_server.add_password_role(role, password)
        source, target = _postgres_database(postgres_server), _postgres_database(postgres_server)
        with psycopg.connect(source.replace("postgresql+psycopg", "postgresql")) as connection:
            connection.execute("INSERT INTO \"user\" (username, password_hash, role, is_active, created_at,"
                               " timezone, regime_method) VALUES ('yan', 'x', 'USER', true, now(), 'UTC', 'rules')")  # fmt: skip

        def as_role(url: str, secret: str | None) -> str:
            login = f"{role}:{quote(secret, safe='')}" if secret else role
            return url.replace("//fillbook@", f"//{login}@")

        # Each tool is run through a stand-in that writes down what it was given.
        shims, seen = tmp_path / "bin", tmp_path / "seen"
        shims.mkdir()
        seen.mkdir()
        for tool, real in tools.items():
            script = shims / tool
            script.write_text(
                "#!/bin/sh\n"
                f'printf "%s\\n" "$@" > "{seen}/{tool}.argv"\n'
                f'env | grep "^PG" > "{seen}/{tool}.env"\n'
                f'if [ -n "$PGPASSFILE" ]; then stat -c %a "$PGPASSFILE" > "{seen}/{tool}.mode";'
                f' cat "$PGPASSFILE" > "{seen}/{tool}.passfile"; fi\n'
                f'exec {real} "$@"\n'
            )
            script.chmod(0o755)
        path = {"PATH": f"{shims}{os.pathsep}{os.environ['PATH']}"}
        dump = tmp_path / "backups" / "fillbook.dump"

        refused = _cli(as_role(source, None), "backup", str(dump), env=path)
        assert refused.returncode != 0
        assert "no password supplied" in refused.stderr  # the server does ask this role for one
        result = _cli(as_role(source, password), "backup", str(dump), env=path)
        assert result.returncode == 0, result.stderr
        restored = _cli(as_role(target, password), "restore", str(dump), env=path)
        assert restored.returncode == 0, restored.stderr

        for tool in tools:
            argv = (seen / f"{tool}.argv").read_text()
            assert token not in argv, argv
            assert f"--dbname=postgresql://{role}@127.0.0.1:{postgres_server.port}/" in argv
            env = (seen / f"{tool}.env").read_text().splitlines()
            assert not any(line.startswith("PGPASSWORD=") for line in env), env
            passfile = Path(next(line for line in env if line.startswith("PGPASSFILE=")).split("=", 1)[1])
            assert not passfile.exists()  # removed once the tool was done
            assert (seen / f"{tool}.mode").read_text().strip() == "600"
            assert (seen / f"{tool}.passfile").read_text() == passfile_line(password)
        assert stat.S_IMODE(dump.stat().st_mode) == 0o600
        assert stat.S_IMODE(dump.parent.stat().st_mode) == 0o700
        with psycopg.connect(target.replace("postgresql+psycopg", "postgresql")) as connection:
            assert connection.execute("SELECT username FROM \"user\"").fetchall() == [("yan",)]


URL = "postgresql+psycopg://backup:p%40ss%3Aw%5Cd@db.example:5433/fillbook?sslmode=require"


class TestPgCommand:
    """What pg_dump and pg_restore are given: never the password on the command line."""

    def test_the_password_is_not_in_the_arguments(self) -> None:
        for command in (pg_dump_command(URL, Path("/b/f.dump")),
                        pg_restore_command(URL, Path("/b/f.dump"))):  # fmt: skip
            assert command.password == "p@ss:w\\d"
            joined = " ".join(command.argv)
            assert "p@ss" not in joined
            assert "p%40ss" not in joined
            assert "--dbname=postgresql://backup@db.example:5433/fillbook?sslmode=require" in command.argv
            assert "--no-password" in command.argv  # never waits on a prompt
            assert "p@ss" not in repr(command)

    def test_the_password_travels_in_a_private_passfile(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PGPASSWORD", "from-the-shell")
        with pg_environment("p@ss:w\\d") as env:
            assert "PGPASSWORD" not in env
            passfile = Path(env["PGPASSFILE"])
            assert passfile.read_text() == "*:*:*:*:p@ss\\:w\\\\d\n"
            assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
            assert stat.S_IMODE(passfile.parent.stat().st_mode) == 0o700
        assert not passfile.exists()

    def test_without_a_password_there_is_no_passfile(self) -> None:
        with pg_environment(None) as env:
            assert "PGPASSFILE" not in env

    def test_a_password_with_a_line_break_is_refused(self) -> None:
        with pytest.raises(BackupError, match="line break"):
            passfile_line("two\nlines")
