"""The journal's files are their owner's only: folders 0700, files 0600 (docs/operations.md)."""

from __future__ import annotations

import io
import logging
import os
import shutil
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from fillbook_exporter.spool import Spool

from backend.api.app import create_app
from backend.backtests.service import _save_upload
from backend.db.engine import Database
from backend.db.migrate import upgrade
from backend.journal.backup import backup_sqlite, restore_sqlite
from tests.conftest import make_settings, register
from tests.live_server import LiveServer


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestDataDirectory:
    def test_the_service_creates_its_files_private(self, tmp_path: Path) -> None:
        data = tmp_path / "nested" / "data"
        url = f"sqlite:///{data / 'fillbook.db'}"
        database = Database(url)
        upgrade(database.engine)
        database.dispose()
        with TestClient(create_app(make_settings(url, data, secret_key=None))) as client:
            register(client, "alice")  # a write: the -wal and -shm files are there while open
            names = {p.name: mode(p) for p in data.iterdir()}
            assert names == {
                "fillbook.db": 0o600, "fillbook.db-wal": 0o600, "fillbook.db-shm": 0o600,
                "fillbook.db-writer.lock": 0o600, "secret_key": 0o600, "training_node_token": 0o600,
            }  # fmt: skip
        assert (mode(tmp_path / "nested"), mode(data)) == (0o700, 0o700)

    def test_looser_modes_are_tightened_at_start_with_a_warning(
        self, tmp_path: Path, sqlite_template: Path
    ) -> None:
        data = tmp_path / "data"
        uploads = data / "backtests" / "uploads"
        uploads.mkdir(parents=True)
        shutil.copyfile(sqlite_template, data / "fillbook.db")
        (uploads / "old.csv").write_text("1700000000000,1,1,1,1,1\n")
        for path, loose in ((data, 0o755), (data / "backtests", 0o755), (uploads, 0o777),
                            (data / "fillbook.db", 0o644), (uploads / "old.csv", 0o664)):  # fmt: skip
            path.chmod(loose)
        server = LiveServer(data)
        with server:
            assert server.create_account("alice").api_key
        modes = {path: mode(path) for path in (data, data / "backtests", uploads)}
        assert set(modes.values()) == {0o700}, modes
        assert mode(data / "fillbook.db") == 0o600
        assert mode(uploads / "old.csv") == 0o600
        log = server.log()
        assert f"{data} was mode 755, open to other users: now 700" in log
        assert f"{uploads / 'old.csv'} was mode 664, open to other users: now 600" in log

    def test_an_uploaded_dataset_is_private(self, tmp_path: Path) -> None:
        path = _save_upload(io.BytesIO(b"1700000000000,1,1,1,1,1\n"), tmp_path / "uploads")
        assert (mode(path.parent), mode(path)) == (0o700, 0o600)


class TestBackups:
    def test_a_backup_and_a_restored_database_are_private(
        self, tmp_path: Path, sqlite_template: Path
    ) -> None:
        chosen = tmp_path / "shared"  # a folder the operator chose is left as it was
        chosen.mkdir(mode=0o755)
        chosen.chmod(0o755)
        backup_sqlite(sqlite_template, chosen / "new" / "fillbook.db")
        assert mode(chosen) == 0o755
        assert (mode(chosen / "new"), mode(chosen / "new" / "fillbook.db")) == (0o700, 0o600)
        restored = tmp_path / "restored" / "fillbook.db"
        restore_sqlite(chosen / "new" / "fillbook.db", restored)
        assert (mode(restored.parent), mode(restored)) == (0o700, 0o600)


class TestExporterSpool:
    def test_the_spool_files_are_private(self, tmp_path: Path) -> None:
        spool = Spool(tmp_path / "home" / ".fillbook" / "s.spool")
        spool.append(spool.open_stream("desk", {"key": "r"}), b'{"n":1}')
        files = {p.name: mode(p) for p in (tmp_path / "home" / ".fillbook").iterdir()}
        spool.close()
        assert files == {"s.spool": 0o600, "s.spool-wal": 0o600, "s.spool-shm": 0o600,
                         "s.spool.intake": 0o600}  # fmt: skip
        assert mode(tmp_path / "home") == mode(tmp_path / "home" / ".fillbook") == 0o700

    def test_a_looser_spool_is_tightened_when_opened(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        folder = tmp_path / "work"  # the caller's folder: left as it is
        folder.mkdir()
        folder.chmod(0o755)
        spool = Spool(folder / "s.spool")
        spool.append(spool.open_stream("desk", {"key": "r"}), b'{"n":1}')
        for path in folder.iterdir():
            path.chmod(0o644)
        with caplog.at_level(logging.WARNING, "fillbook_exporter"):
            reopened = Spool(folder / "s.spool", absorb=False)
        assert {p.name: mode(p) for p in folder.iterdir()} == {
            "s.spool": 0o600, "s.spool-wal": 0o600, "s.spool-shm": 0o600, "s.spool.intake": 0o600
        }  # fmt: skip
        assert f"spool file {folder / 's.spool'} was mode 644" in caplog.text
        assert mode(folder) == 0o755
        reopened.close()
        spool.close()
        assert os.path.exists(folder / "s.spool")
