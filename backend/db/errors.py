"""Recognising a database that has run out of space, whatever the driver calls it."""

from __future__ import annotations

import errno
import sqlite3

from backend.errors import AppError

SQLITE_FULL = 13  # "database or disk is full": the disk, or SQLite's max_page_count
PG_DISK_FULL = "53100"  # SQLSTATE disk_full


class StorageFull(AppError):
    """507: nothing was stored; the client keeps its data and retries later."""

    status_code = 507
    code = "insufficient_storage"


def is_storage_full(exc: BaseException) -> bool:
    """True when `exc`, or what caused it, says the database's storage is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == SQLITE_FULL
            or "database or disk is full" in str(current)
        ):
            return True
        if getattr(current, "sqlstate", None) == PG_DISK_FULL:
            return True
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


TRANSIENT_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected


def is_transient(exc: BaseException) -> bool:
    """A conflict between concurrent transactions (PostgreSQL): retrying succeeds."""
    current: BaseException | None = exc
    for _ in range(5):
        if current is None:
            return False
        if getattr(current, "sqlstate", None) in TRANSIENT_SQLSTATES:
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


SQLITE_BUSY = 5


def is_busy(exc: BaseException) -> bool:
    """SQLite's write lock stayed taken for the whole busy timeout ("database is locked")."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and (
        getattr(orig, "sqlite_errorcode", None) == SQLITE_BUSY
    )


def storage_full(action: str) -> StorageFull:
    return StorageFull(
        f"the database has no space left, so {action} was not stored; "
        "keep the data and retry once the operator has freed space"
    )
