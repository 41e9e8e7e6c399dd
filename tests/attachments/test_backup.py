"""`python -m backend backup/restore` with attachment files: a round trip with real images."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.config import Settings
from tests.attachments import images
from tests.attachments.conftest import created, files_of, upload
from tests.conftest import login, register
from tests.live_server import PROJECT_ROOT


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "DATA_DIR": str(settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "backend", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


class TestBackupRestore:
    def test_the_files_travel_with_the_database(self, settings: Settings, tmp_path: Path) -> None:
        first, second = images.png(50, 40, "red"), images.jpeg(30, 20)
        with TestClient(create_app(settings)) as client:
            register(client, "alice")
            alice = login(client, "alice")
            kept = [created(upload(client, alice, first, target="day", key="2024-01-02"))["id"],
                    created(upload(client, alice, second, target="day", key="2024-01-03",
                                   content_type="image/jpeg"))["id"]]  # fmt: skip
            on_disk = files_of(client)
        backup = tmp_path / "backups" / "fillbook.db"
        result = _cli(settings, "backup", str(backup))
        if "is not installed here" in result.stderr:
            pytest.skip("pg_dump is not installed")
        assert result.returncode == 0, result.stderr
        folder = tmp_path / "backups" / "fillbook.db.attachments"
        assert result.stdout.splitlines()[-1] == f"attachments: 4 files in {folder}"
        assert sorted(p.name for p in (folder / "1").iterdir()) == on_disk
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "1" / f"{kept[0]}.png").stat().st_mode) == 0o600
        assert not (tmp_path / "backups" / "fillbook.db.attachments.partial").exists()

        with TestClient(create_app(settings)) as client:  # changes after the backup
            alice = login(client, "alice")
            assert client.delete(f"/api/attachments/{kept[0]}", headers=alice).status_code == 204
            later = created(upload(client, alice, images.webp(), target="day", key="2024-01-04",
                                   content_type="image/webp"))["id"]  # fmt: skip
            assert files_of(client) == sorted([f"{kept[1]}.jpg", f"{kept[1]}.thumb.webp",
                                               f"{later}.thumb.webp", f"{later}.webp"])  # fmt: skip

        restored = _cli(settings, "restore", str(backup))
        assert restored.returncode == 0, restored.stderr
        assert restored.stdout.splitlines()[-1] == (
            f"attachments: 4 files restored into {settings.data_dir / 'attachments'}"
        )
        with TestClient(create_app(settings)) as client:
            alice = login(client, "alice")
            assert files_of(client) == on_disk
            for attachment_id, data, day in (
                (kept[0], first, "2024-01-02"),
                (kept[1], second, "2024-01-03"),
            ):
                (listed,) = client.get("/api/attachments", params={"target": "day", "key": day},
                                       headers=alice).json()  # fmt: skip
                assert listed["id"] == attachment_id
                assert client.get(listed["url"], headers=alice).content == data
                thumb = client.get(listed["thumbnail_url"], headers=alice)
                assert images.format_of(thumb.content) == "WEBP"
            assert client.get("/api/attachments", params={"target": "day", "key": "2024-01-04"},
                              headers=alice).json() == []  # fmt: skip

    def test_a_backup_without_attachments_leaves_the_files_alone(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        with TestClient(create_app(settings)) as client:
            register(client, "alice")
            alice = login(client, "alice")
            created(upload(client, alice, images.png(), target="day", key="2024-01-02"))
        backup = tmp_path / "old.db"
        made = _cli(settings, "backup", str(backup))
        if "is not installed here" in made.stderr:
            pytest.skip("pg_dump is not installed")
        assert made.returncode == 0, made.stderr
        for path in (tmp_path / "old.db.attachments").rglob("*"):
            if path.is_file():
                path.unlink()
        (tmp_path / "old.db.attachments" / "1").rmdir()
        (tmp_path / "old.db.attachments").rmdir()
        result = _cli(settings, "restore", str(backup))
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == (
            f"attachments: no {tmp_path / 'old.db.attachments'} beside the backup; "
            f"{settings.data_dir / 'attachments'} left as it is"
        )
        assert len(list((settings.data_dir / "attachments" / "1").iterdir())) == 2
