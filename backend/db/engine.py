"""The engine, its SQLite pragmas, and the sessions that own transactions.

On SQLite a transaction that first reads and then writes can fail at once with
"database is locked" when another connection committed in between (WAL cannot
upgrade a stale read snapshot), and no busy timeout helps. So every transaction
that will write starts with `BEGIN IMMEDIATE`, taking the write lock up front
and queueing behind other writers for up to the busy timeout; read-only
transactions start deferred and never block anyone.

Before `BEGIN IMMEDIATE`, a write transaction on a SQLite file takes the
service's writer lock (backend/db/write_lock.py), which hands the lock over
the moment it is free instead of leaving waiters asleep in SQLite's busy handler.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from backend.db.write_lock import WriteLock, write_lock
from backend.file_modes import private_sqlite

_BEGIN_OPTION = "fillbook_sqlite_begin"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for `postgresql://` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class Database:
    """One engine and the two kinds of session the service uses."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 5000,
        max_page_count: int | None = None,
        wal_autocheckpoint: bool = True,
    ) -> None:
        """`wal_autocheckpoint=False`: this engine's commits never checkpoint the WAL (the
        ingest writer process checkpoints in a thread of its own instead)."""
        url = normalise_url(url)
        parsed = make_url(url)
        self.busy_timeout_ms = busy_timeout_ms
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"pool_pre_ping": not self.is_sqlite}
        self.write_lock: WriteLock | None = None
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                private_sqlite(Path(parsed.database))  # 0600, and so its -wal and -shm
                self.write_lock = write_lock(parsed.database)
            kwargs["connect_args"] = {"check_same_thread": False}
            kwargs["pool_size"] = 20
            kwargs["max_overflow"] = 20
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, busy_timeout_ms, max_page_count, wal_autocheckpoint)
        self.write_engine: Engine = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(self.write_engine, expire_on_commit=False)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        factory = self._writers if write else self._readers
        with self._holding(write), factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core connection in a write transaction (the ingest writer's hot path)."""
        with self._holding(True), self.write_engine.begin() as connection:
            yield connection

    @contextmanager
    def _holding(self, write: bool) -> Iterator[None]:
        """The SQLite writer lock around a write transaction (backend/db/write_lock.py)."""
        if write and self.write_lock is not None:
            with self.write_lock.hold(self.busy_timeout_ms / 1000):
                yield
        else:
            yield

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(
    engine: Engine, busy_timeout_ms: int, max_page_count: int | None, wal_autocheckpoint: bool
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver, so that BEGIN is ours (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not wal_autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        if max_page_count is not None:  # a cap on the file: writes past it fail as "full"
            cursor.execute(f"PRAGMA max_page_count={int(max_page_count)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def driver_rows(session: Session, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """The rows of `sql` (`?` placeholders, none literal in it) as the driver's own tuples, in
    the session's transaction: a rebuild reads tens of thousands of rows, and building a
    SQLAlchemy Row for each costs more than reading it."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        sql = sql.replace("?", "%s")
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
