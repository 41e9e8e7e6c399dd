from __future__ import annotations

from pprint import pformat

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from backend.db.engine import Database
from backend.db.migrate import alembic_config, current_revision, head_revision, upgrade
from backend.db.models import Base


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
