"""The few spots where SQLite and PostgreSQL spell the same SQL differently."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    """Rewrites the hot path's `?`-placeholder SQL for the driver in use."""

    name: str

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def q(self, sql: str) -> str:
        """`?` placeholders for sqlite3, `%s` for psycopg (no literal `?` or `%` in our SQL)."""
        return sql if self.is_sqlite else sql.replace("?", "%s")

    def differs(self, left: str, right: str) -> str:
        """A null-safe inequality."""
        return f"{left} IS NOT {right}" if self.is_sqlite else f"{left} IS DISTINCT FROM {right}"

    def least(self, left: str, right: str) -> str:
        return f"MIN({left}, {right})" if self.is_sqlite else f"LEAST({left}, {right})"

    def timestamp(self, instant: dt.datetime) -> object:
        """A wall-clock instant as `UTCDateTime` columns store it (naive UTC)."""
        naive = instant.astimezone(dt.UTC).replace(tzinfo=None)
        # SQLAlchemy's SQLite DATETIME text format; the stdlib adapter is deprecated.
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if self.is_sqlite else naive
