"""`python -m backend backup/restore`: a consistent copy while a live server ingests."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.live_server import PROJECT_ROOT, LiveServer
from tests.postgres_server import PostgresServer

BATCH = 50


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
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
