"""A full disk: ingest answers 507 with a detail, the exporter keeps its events and delivers later."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fillbook_exporter import Exporter

from tests.live_server import LiveServer

EVENTS = 12_000  # more than fit after the probe, whether or not trades were derived meanwhile
RUN = {"key": "full", "strategy": "x", "mode": "live"}


def _page_count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        count = int(connection.execute("PRAGMA page_count").fetchone()[0])
    connection.close()
    return count


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs (needs root and CAP_SYS_ADMIN), unmounted afterwards."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _wait(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _fill_until_full(server: LiveServer, tmp_path: Path) -> Exporter:
    """Start an exporter pushing more fills than fit; return it once the service said 507."""
    account = server.create_account("alice")
    refused = httpx.post(f"{server.url}/api/ingest", headers=account.ingest_headers, timeout=30, json={
        "source": "probe", "run": RUN, "events": [
            {"type": "execution", "id": f"probe-{i}", "ts": 1_704_189_600_000_000_000 + i,
             "symbol": "ES", "side": "buy", "qty": 1, "price": 1.0, "account": "x" * 100}
            for i in range(9000)]})  # fmt: skip
    assert refused.status_code == 507, refused.text
    assert refused.json()["error"] == "insufficient_storage"
    assert "no space left" in refused.json()["detail"]
    exporter = Exporter(server.url, account.api_key, "desk", RUN, spool_path=tmp_path / "spool.db",
                        batch_size=2000, max_batch_age=0.05, backoff_base=0.05, backoff_cap=0.3)  # fmt: skip
    with exporter.group():
        for i in range(EVENTS):
            exporter.execution(1_704_189_600_000_000_000 + i * 1000, "ES", "buy" if i % 2 else "sell",
                               1, 100.0, id=f"x{i}", account="acct-" + "y" * 90)  # fmt: skip
    _wait(lambda: exporter.stats["retries"] >= 3)  # what fit went in; the rest keeps failing
    assert exporter.error is None  # 507 is retried, not fatal
    stuck = exporter.pending()
    assert stuck > 0  # kept in the spool, not dropped
    assert httpx.get(f"{server.url}/api/health", timeout=10).status_code == 200
    return exporter


def _delivered(server: LiveServer, exporter: Exporter, database: Path) -> None:
    exporter.flush(timeout=90)
    assert exporter.pending() == 0
    assert server.create_account("reader").token  # a new user: the database takes writes again
    exporter.close()
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT COUNT(*) FROM execution WHERE source = 'desk'").fetchone()
        assert stored == (EVENTS,)  # every event, once
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()


class TestDiskFull:
    def test_a_full_filesystem(self, small_disk: Path, tmp_path: Path) -> None:
        server = LiveServer(small_disk)
        with server:
            exporter = _fill_until_full(server, tmp_path)
            subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
            _delivered(server, exporter, small_disk / "fillbook.db")

    def test_a_database_at_its_page_cap(self, tmp_path: Path, sqlite_template: Path) -> None:
        server = LiveServer(tmp_path / "data")
        server.data_dir.mkdir()
        shutil.copyfile(sqlite_template, server.data_dir / "fillbook.db")
        cap = _page_count(server.data_dir / "fillbook.db") + 150  # ~600 KiB of room
        capped = LiveServer(tmp_path / "data", port=server.port, env={"SQLITE_MAX_PAGE_COUNT": str(cap)})
        with capped:
            exporter = _fill_until_full(capped, tmp_path)
        with server:  # the operator lifts the cap: the spool drains into the same database
            _delivered(server, exporter, tmp_path / "data" / "fillbook.db")
