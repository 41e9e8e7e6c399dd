from __future__ import annotations

import hashlib
from pathlib import Path
from pprint import pformat

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from backend.api.app import create_app
from backend.db.engine import Database
from backend.db.migrate import alembic_config, current_revision, head_revision, upgrade
from backend.db.models import Base
from tests.conftest import make_settings
from tests.ingest.helpers import CONTRACT_EVENTS, batch, push


def _diff(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


class TestMigrations:
    def test_migrations_produce_exactly_the_orm_metadata(self, database_url: str) -> None:
        database = Database(database_url)
        try:
            assert current_revision(database.engine) == head_revision()
            diff = _diff(database)
            assert diff == [], pformat(diff)
        finally:
            database.dispose()

    def test_downgrade_to_nothing_and_back(self, database_url: str) -> None:
        from alembic import command

        database = Database(database_url)
        try:
            with database.engine.connect() as connection:
                config = alembic_config()
                config.attributes["connection"] = connection
                command.downgrade(config, "base")
                connection.commit()
            assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
            upgrade(database.engine)
            assert _diff(database) == []
        finally:
            database.dispose()


class TestApiKeyScopesMigration:
    def test_keys_made_before_scopes_keep_ingesting_and_reading(
        self, database_url: str, tmp_path: Path
    ) -> None:
        """A desk's exporter key from before 0008 goes on working: ingest and read, no more."""
        from alembic import command

        secret = "fb_" + "k" * 43
        database = Database(database_url)
        try:
            with database.engine.connect() as connection:
                config = alembic_config()
                config.attributes["connection"] = connection
                command.downgrade(config, "0007_login_throttle")
                connection.execute(text(
                    "INSERT INTO \"user\" (id, username, password_hash, role, is_active, timezone,"
                    " regime_method, created_at) VALUES (1, 'desk', 'x', 'ADMIN', true, 'UTC',"
                    " 'rules', '2024-01-01 00:00:00')"))  # fmt: skip
                connection.execute(
                    text("INSERT INTO api_key (user_id, name, prefix, key_hash, created_at) "
                         "VALUES (1, 'old', :prefix, :hash, '2024-01-01 00:00:00')"),
                    {"prefix": secret[:10], "hash": hashlib.sha256(secret.encode()).hexdigest()},
                )  # fmt: skip
                connection.commit()
            upgrade(database.engine)
        finally:
            database.dispose()
        key = {"Authorization": f"Bearer {secret}"}
        with TestClient(create_app(make_settings(database_url, tmp_path / "data"))) as client:
            assert push(client, key, batch(CONTRACT_EVENTS))["accepted"] == 5
            assert client.get("/api/runs", headers=key).json()["items"][0]["id"] == 1
            response = client.get("/api/export", headers=key)
            assert response.status_code == 403
            assert "lacks the 'export' scope; its scopes: ingest, read" in response.json()["detail"]


class TestSqlitePragmas:
    def test_wal_foreign_keys_and_busy_timeout(self, tmp_path: object) -> None:
        database = Database(f"sqlite:///{tmp_path}/x.db", busy_timeout_ms=1234)
        try:
            with database.engine.connect() as connection:
                pragma = connection.exec_driver_sql
                assert pragma("PRAGMA journal_mode").scalar() == "wal"
                assert pragma("PRAGMA foreign_keys").scalar() == 1
                assert pragma("PRAGMA busy_timeout").scalar() == 1234
        finally:
            database.dispose()
