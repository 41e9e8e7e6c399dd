"""Reads never need SQLite's write lock: while ingest holds it, every GET still answers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from backend.config import Settings
from tests.conftest import make_settings
from tests.security.conftest import World
from tests.security.endpoints import catalogue


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A short busy timeout: a read that wanted the write lock would fail fast, not pass late."""
    return make_settings(database_url, tmp_path / "data", sqlite_busy_timeout_ms=200)


class TestReadsUnderLock:
    def test_every_get_answers_while_a_writer_holds_the_lock(
        self, world: World, database_url: str
    ) -> None:
        if not database_url.startswith("sqlite"):
            pytest.skip("SQLite's single write lock only")
        gets = [e for e in catalogue(world.client.app)  # type: ignore[arg-type]
                if e.method == "GET" and not e.public]  # fmt: skip
        writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # as the ingest writer does for a batch
        try:
            failures = []
            for endpoint in gets:
                response = world.call(endpoint, world.alice)
                if response.status_code >= 500:
                    failures.append(f"{endpoint}: {response.status_code} {response.text[:160]}")
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert not failures, "\n".join(failures)
        assert len(gets) >= 20
