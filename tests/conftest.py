"""Fixtures: real databases (a SQLite file, a PostgreSQL server) and the real app over them."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.config import Settings
from backend.db.engine import Database
from backend.db.migrate import upgrade
from tests.postgres_server import PostgresServer, find_bindir

TEMPLATE_DB = "fillbook_template"
_database_numbers = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("FILLBOOK_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (FILLBOOK_REQUIRE_POSTGRES) but not installed")
        pytest.skip("PostgreSQL is not installed; `make test` installs it")
    server = PostgresServer(bindir)
    server.start()
    try:
        database = Database(server.create_database(TEMPLATE_DB))
        upgrade(database.engine)
        database.dispose()
        yield server
    finally:
        server.stop()


def _postgres_database(server: PostgresServer) -> str:
    return server.create_database(f"fillbook_test_{next(_database_numbers)}", template=TEMPLATE_DB)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database of each kind the service supports."""
    if request.param == "sqlite":
        path = tmp_path / "fillbook.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return _postgres_database(request.getfixturevalue("postgres_server"))


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": "test-secret-key-that-is-long-enough-for-hs256-0123456789",
        "bcrypt_rounds": 4,
        # In a thread, so that tests can add derivers to the running app (a worker process is
        # tested in tests/ingest/test_derivation_worker.py and by the live-server tests).
        "derivation_process": False,
        # Likewise the ingest writer (tests/ingest/test_writer_process.py runs it in a process).
        "writer_process": False,
        "allowed_hosts": ["testserver", "localhost", "127.0.0.1"],  # TestClient's host
        # Every TestClient request comes from the one address "testclient"; the limit itself
        # is tested in tests/security/test_hardening.py.
        "registrations_per_hour": 10_000,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def register(client: TestClient, username: str, password: str = "correct horse") -> int:
    response = client.post("/api/auth/register", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def login(client: TestClient, username: str, password: str = "correct horse") -> dict[str, str]:
    response = client.post("/api/auth/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# What every key could do before keys had scopes; the suites' keys push and read back.
KEY_SCOPES = ("ingest", "read")


def create_api_key(
    client: TestClient,
    headers: dict[str, str],
    name: str = "exporter",
    scopes: tuple[str, ...] | None = KEY_SCOPES,
) -> str:
    """A new key's secret; `scopes=None` sends none (the server's default: ingest only)."""
    body: dict[str, object] = {"name": name}
    if scopes is not None:
        body["scopes"] = list(scopes)
    response = client.post("/api/auth/api-keys", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


@pytest.fixture
def alice(client: TestClient) -> dict[str, str]:
    """Headers of a logged-in first user (an ADMIN)."""
    register(client, "alice")
    return login(client, "alice")


@pytest.fixture
def bob(client: TestClient, alice: dict[str, str]) -> dict[str, str]:
    """Headers of a second, ordinary user."""
    register(client, "bob")
    return login(client, "bob")


@pytest.fixture
def alice_key(client: TestClient, alice: dict[str, str]) -> dict[str, str]:
    """Headers carrying an API key of alice's (scopes ingest and read)."""
    return {"Authorization": f"Bearer {create_api_key(client, alice)}"}
