"""The single writer: every ingest batch of this process is stored by one thread.

Handlers validate concurrently and hand batches over a queue. The writer takes
whatever is queued (up to `max_group_events`) and stores it in one transaction,
each batch under its own savepoint so that one failing batch cannot sink the
others: this is group commit, and it is why several exporters pushing at once
never meet "database is locked" or a unique-constraint race on SQLite. After
the commit, `on_commit` hears what the batches touched.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.db.engine import Database
from backend.db.errors import is_storage_full, is_transient, storage_full
from backend.errors import AppError
from backend.ingest.batch import PreparedBatch, StoredBatch
from backend.ingest.repository import IngestRepository
from backend.ingest.sql import Dialect
from backend.ingest.store import store_batch, store_isolated

log = logging.getLogger(__name__)

OnCommit = Callable[[list[StoredBatch]], None]


class WriterUnavailable(AppError):
    status_code = 503
    code = "ingest_unavailable"


@dataclass
class Waiting:
    """A request waiting on its event loop for its batch's outcome, which another thread
    hands it."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[StoredBatch]

    @classmethod
    def here(cls) -> Waiting:
        loop = asyncio.get_running_loop()
        return cls(loop, loop.create_future())

    def resolve(self, result: StoredBatch | BaseException) -> None:
        def _set() -> None:
            if self.future.done():
                return
            if isinstance(result, BaseException):
                self.future.set_exception(result)
            else:
                self.future.set_result(result)

        self.loop.call_soon_threadsafe(_set)


@dataclass
class _Job:
    batch: PreparedBatch
    waiting: Waiting

    @property
    def size(self) -> int:
        return len(self.batch.events) + len(self.batch.rejected)

    def resolve(self, result: StoredBatch | BaseException) -> None:
        self.waiting.resolve(result)


class IngestWriter:
    def __init__(
        self,
        db: Database,
        *,
        on_commit: OnCommit | None = None,
        max_group_events: int = 20_000,
        busy_flag: Any = None,
    ) -> None:
        self.db = db
        self.dialect = Dialect(db.engine.dialect.name)
        self.on_commit = on_commit
        self.max_group_events = max_group_events
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._writing = False
        # A shared ctypes value (or None) that is 1 while this writer has work, so that a
        # derivation worker process can yield SQLite's write lock to it (has_work's twin).
        self.busy_flag = busy_flag
        self.batches_written = 0

    def has_work(self) -> bool:
        """Batches are queued or being written: other writers of this process should wait."""
        return self._writing or not self._queue.empty()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    async def submit(self, batch: PreparedBatch) -> StoredBatch:
        """Store `batch`; returns once it is committed."""
        if self._thread is None or not self._thread.is_alive():
            raise WriterUnavailable("the ingest writer is not running; retry shortly")
        job = _Job(batch, Waiting.here())
        self._signal(True)
        self._queue.put(job)
        return await job.waiting.future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, stop = [first], False
            size = first.size
            while size < self.max_group_events:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                group.append(job)
                size += job.size
            self._writing = True
            self._signal(True)
            try:
                self._write_group(group)
            finally:
                self._writing = False
                self._signal(not self._queue.empty())
            if stop:
                return

    def _signal(self, busy: bool) -> None:
        if self.busy_flag is not None:
            self.busy_flag.value = int(busy)

    def _write_group(self, group: list[_Job]) -> None:
        started = time.perf_counter()
        outcomes = store_group(self.db, self.dialect, [job.batch for job in group])
        stored = [o for o in outcomes if isinstance(o, StoredBatch)]
        self.batches_written += len(stored)
        run_on_commit(self.on_commit, stored)
        for job, outcome in zip(group, outcomes, strict=True):
            job.resolve(outcome)
        log.debug(
            "ingest group committed",
            extra={"batches": len(group), "ms": round((time.perf_counter() - started) * 1e3, 2)},
        )


def run_on_commit(on_commit: OnCommit | None, stored: list[StoredBatch]) -> None:
    """Run before answering the batches: a client that reads right after its response must
    not be served what the commit made stale (e.g. cached aggregated bars)."""
    if stored and on_commit is not None:
        try:
            on_commit(stored)
        except Exception:  # the data is committed; pending work is recorded in the db
            log.exception("post-commit hook failed")


# Per database: the (user, account name) pairs whose account exists, so that a batch of
# known accounts makes none (backend/ingest/store.py, `_ensure_accounts`). Pairs go in
# only after their transaction committed. An account is deleted only while no fill or
# cash flow carries its name (backend/accounts/service.py), so a known pair stays true
# except in one case: every fill of an account amended away, then the account deleted; a
# restart forgets the cache.
_KNOWN_ACCOUNTS: weakref.WeakKeyDictionary[Database, set[tuple[int, str]]] = (
    weakref.WeakKeyDictionary()
)


def store_group(
    db: Database, dialect: Dialect, batches: list[PreparedBatch]
) -> list[StoredBatch | BaseException]:
    """Store `batches` in one transaction, each under a savepoint of its own: a batch that
    fails is rolled back alone, unless the transaction itself is lost (then all fail)."""
    outcomes: list[StoredBatch | BaseException] = []
    try:
        known = _KNOWN_ACCOUNTS.setdefault(db, set())
        with db.write_connection() as connection:
            repo = IngestRepository(connection, dialect, known)
            now = dt.datetime.now(dt.UTC)
            for batch in batches:
                savepoint = connection.begin_nested()
                try:
                    outcomes.append(store_batch(repo, batch, now))
                    savepoint.commit()
                except Exception as exc:  # one bad batch must not sink the group
                    if is_storage_full(exc):
                        raise  # the transaction itself is lost: every batch of it fails
                    savepoint.rollback()
                    if is_transient(exc):  # e.g. a deadlock with another worker process
                        outcomes.append(
                            WriterUnavailable(f"a concurrent write conflicted: {exc}; resend")
                        )
                    elif isinstance(exc, AppError):
                        outcomes.append(exc)
                    else:
                        log.warning("storing a batch failed; isolating its events", exc_info=exc)
                        outcomes.append(store_isolated(connection, repo, batch, now))
    except Exception as exc:
        log.exception("ingest commit failed", exc_info=exc)
        failure: AppError = (
            storage_full("the batch")
            if is_storage_full(exc)
            else WriterUnavailable(f"the batch could not be committed: {exc}; resend it")
        )
        return [failure] * len(batches)
    for outcome in outcomes:
        if isinstance(outcome, StoredBatch):
            known.update(outcome.accounts)
    return outcomes
