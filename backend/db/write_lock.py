"""One writer at a time on a SQLite file, handed over the moment it is free.

SQLite lets one connection write at a time and makes the others wait in its
busy handler, which sleeps in growing steps (1, 2, 5, 10 ... 100 ms) and
retries: a writer that wants the lock a moment after it was taken sleeps for
milliseconds after it is free again. The ingest writer and the derivation
worker hand the lock back and forth hundreds of times a second, and those
sleeps were most of ingest's tail latency.

So every write transaction of the service first takes this lock: an exclusive
`flock` on a file beside the database, which works between threads (each
thread has a descriptor of its own) and between processes, and which the
kernel releases when its holder dies, so a killed process never leaves it
taken. A waiter polls it every half millisecond, up to the busy timeout, after
which it fails like SQLite would ("database is locked"). SQLite's own lock
stays underneath for writers outside the service (the CLI, migrations).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backend.db.errors import SQLITE_BUSY

POLL_SECONDS = 0.0005


class _Holder:
    """One thread's descriptor of the lock file and how deeply it holds the lock."""

    fd: int | None = None
    depth = 0

    def __del__(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


class _Holders(threading.local):
    def __init__(self) -> None:
        self.holder = _Holder()


class WriteLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._holders = _Holders()

    @contextmanager
    def hold(self, timeout_s: float) -> Iterator[None]:
        """Hold the lock for the block, waiting at most `timeout_s` for it; re-entrant
        within a thread.

        The block may end on another thread than it began (FastAPI enters and exits a
        generator dependency such as the write session in different worker threads):
        the release acts on the holder of the thread that took the lock, not on the
        thread it happens to run on, which would leave the lock taken for good.
        """
        holder = self._holders.holder
        if holder.depth == 0:
            self._acquire(holder, timeout_s)
        holder.depth += 1
        try:
            yield
        finally:
            holder.depth -= 1
            if holder.depth == 0:
                assert holder.fd is not None
                fcntl.flock(holder.fd, fcntl.LOCK_UN)

    def _acquire(self, holder: _Holder, timeout_s: float) -> None:
        if holder.fd is None:
            holder.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(holder.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked(timeout_s) from None
                time.sleep(POLL_SECONDS)


def _locked(timeout_s: float) -> sqlite3.OperationalError:
    """The error SQLite gives when its busy timeout runs out, so callers handle one kind."""
    error = sqlite3.OperationalError(f"database is locked (the writer lock, {timeout_s:g} s)")
    error.sqlite_errorcode = SQLITE_BUSY
    return error


_LOCKS: dict[Path, WriteLock] = {}
_LOCKS_GUARD = threading.Lock()


def write_lock(database: str) -> WriteLock:
    """The lock of the SQLite file `database`: one per file in a process, so that two
    `Database` objects on one file (tests, the CLI) share a thread's hold instead of
    waiting on each other."""
    path = Path(f"{os.path.abspath(database)}-writer.lock")
    with _LOCKS_GUARD:
        lock = _LOCKS.get(path)
        if lock is None:
            lock = _LOCKS[path] = WriteLock(path)
        return lock
