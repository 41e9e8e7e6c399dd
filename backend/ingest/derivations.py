"""Work that follows a committed batch: re-deriving the positions it touched.

The writer records each touched (run, account, symbol) in `pending_derivation`
in the same transaction as the fills, so the work survives a crash. This
runner, a thread of its own so that ingest responses never wait for it, takes
each pending row in a write transaction of its own: deletes it, runs every
registered deriver over it, commits. A deriver that fails rolls the row back
in; it is retried on the next wake-up. On start it finishes whatever a
previous process left.

A deriver works in bounded slices (the trade rebuild: SLICE_FILLS fills), so
that no transaction holds SQLite's write lock for long while a big stretch is
stale: it returns where it stopped, the row goes back pending from there in
the same transaction, and the next round goes on at once.

Given a `WorkerConfig`, the runner derives in a worker process of its own
instead (backend/ingest/derivation_worker.py): rebuilding trades is most of
ingest's CPU, and in a thread it shares the API process's GIL with validation
and the writer. The interface stays the same: `notify()` wakes the worker,
`wait_idle()` waits for its answer, and the listeners and timers run here, in
the API process, with what it reports.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.db.engine import Database
from backend.db.errors import is_busy
from backend.db.models import PendingDerivation
from backend.ingest.repository import IngestRepository
from backend.ingest.sql import Dialect

if TYPE_CHECKING:
    from backend.ingest.derivation_worker import WorkerLink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Derivation:
    """A position whose derived data is stale from `from_ts` (UTC ns) on."""

    user_id: int
    run_id: int
    account: str
    symbol: str
    from_ts: int


# A deriver may stop early, after a bounded slice of the work, so that no transaction holds
# SQLite's write lock for long: it returns the time from which the position is still stale.
Deriver = Callable[[Session, Derivation], int | None]
Listener = Callable[[list[Derivation]], None]


@dataclass(frozen=True)
class WorkerConfig:
    """How a derivation worker process opens the database (the API's `Database` settings)."""

    url: str
    busy_timeout_ms: int = 5000
    max_page_count: int | None = None


@dataclass
class Round:
    """What one pass over the pending positions did."""

    done: list[Derivation]
    seconds: list[float]  # each derived position's derive time
    failed: bool  # some stay pending: retry later
    more: bool = False  # a deriver stopped after a slice: the next round goes on at once


class DerivationRunner:
    def __init__(
        self,
        db: Database,
        *,
        retry_seconds: float = 5.0,
        yield_to: Callable[[], bool] = lambda: False,
        max_yield_seconds: float = 1.0,
        worker: WorkerConfig | None = None,
        busy_flag: Any = None,
    ) -> None:
        self.db = db
        # In a worker process when given (and every deriver can be named there), else a thread.
        self.worker = worker
        self.busy_flag = busy_flag  # a shared ctypes value the writer sets while it has work
        # Ingest goes first: SQLite has one write lock, and a runner that takes it
        # again right after each commit starves the writer into "database is locked".
        self.yield_to = yield_to
        self.max_yield_seconds = max_yield_seconds
        self.derivers: list[Deriver] = []
        self.listeners: list[Listener] = []
        self.timers: list[Callable[[float], None]] = []  # hear each position's derive seconds
        self.retry_seconds = retry_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._link: WorkerLink | None = None

    def start(self) -> None:
        if self._link is None and self._thread is None and self._can_use_worker():
            from backend.ingest.derivation_worker import WorkerLink

            assert self.worker is not None
            self._link = WorkerLink(self, self.worker, self.busy_flag)
            self._link.start()
            return
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="derivations", daemon=True)
            self._thread.start()
            self._wake.set()  # finish what a previous process left pending

    @property
    def worker_pid(self) -> int | None:
        """The worker process deriving for this runner, or None when it derives in a thread."""
        return None if self._link is None else self._link.pid

    def _can_use_worker(self) -> bool:
        if self.worker is None:
            return False
        named = all(is_importable(deriver) for deriver in self.derivers)
        if not named:
            log.warning("a deriver cannot be named in a worker process; deriving in a thread")
        return named

    def stop(self, timeout: float = 30.0) -> None:
        if self._link is not None:
            self._link.stop(timeout)
            self._link = None
        if self._thread is not None:
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout)
            self._thread = None

    def notify(self) -> None:
        """Something new is pending."""
        if self._link is not None:
            self._link.notify()
            return
        self._wake.set()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is pending or being derived (tests, shutdown)."""
        if self._link is not None:
            return self._link.wait_idle(timeout)
        with self._idle:
            return self._idle.wait_for(lambda: not self._busy and not self._wake.is_set(), timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(timeout=self.retry_seconds)
            with self._idle:
                self._busy = True
                self._wake.clear()
            try:
                failed = self.run_pending()
            except Exception:
                log.exception("deriving pending positions failed")
                failed = True
            with self._idle:
                self._busy = False
                self._idle.notify_all()
            if failed:
                self._stopping.wait(self.retry_seconds)

    def run_pending(self) -> bool:
        """Derive every pending position, slice after slice, telling the listeners after
        each round; True when some failed and stay pending."""
        while True:
            result = self.derive_pending()
            for seconds in result.seconds:
                for timer in self.timers:
                    timer(seconds)
            failed = self.tell_listeners(result.done) or result.failed
            if failed or not result.more:
                return failed

    def tell_listeners(self, done: list[Derivation]) -> bool:
        """Every round, so work queued without rows runs too; True when one must run again."""
        failed = False
        for listener in self.listeners:
            try:
                listener(done)
            except Exception as exc:
                if is_busy(exc):
                    log.info("ingest is busy; a derivation listener runs on the next round")
                    failed = True
                else:
                    log.exception("derivation listener failed")
        return failed

    def derive_pending(self) -> Round:
        """Run the derivers over every pending position once (no listeners, no timers)."""
        with self.db.session() as session:
            rows = (
                session.execute(select(PendingDerivation.id).order_by(PendingDerivation.id))
                .scalars()
                .all()
            )
        result = Round([], [], False)
        for row_id in rows:
            self._let_ingest_go_first()
            try:
                derivation = self._derive_one(row_id, result)
            except Exception as exc:
                result.failed = True
                if is_busy(exc):  # ingest kept SQLite's write lock: not an error, later
                    log.info("ingest is busy; deriving the pending positions later")
                    break
                log.exception("deriving pending position %s failed; will retry", row_id)
                continue
            if derivation is not None:
                result.done.append(derivation)
        return result

    def _let_ingest_go_first(self) -> None:
        deadline = time.monotonic() + self.max_yield_seconds
        while self.yield_to() and time.monotonic() < deadline:
            time.sleep(0.002)

    def _derive_one(self, row_id: int, result: Round) -> Derivation | None:
        with self.db.session(write=True) as session:
            row = session.get(PendingDerivation, row_id)
            if row is None:  # taken by another process
                return None
            derivation = Derivation(row.user_id, row.run_id, row.account, row.symbol, row.from_ts)
            session.execute(delete(PendingDerivation).where(PendingDerivation.id == row_id))
            started = time.perf_counter()
            stops = [deriver(session, derivation) for deriver in self.derivers]
            resume = [ts for ts in stops if ts is not None]
            if resume:  # the rest of the position is the next slice's: pending again
                d = derivation
                connection = session.connection()
                dialect = Dialect(connection.dialect.name)
                stamp = dialect.timestamp(row.created_at)
                IngestRepository(connection, dialect).mark_pending(
                    [(d.user_id, d.run_id, d.account, d.symbol, min(resume), stamp)]
                )
                result.more = True
        result.seconds.append(time.perf_counter() - started)
        return derivation


def is_importable(function: Callable[..., Any]) -> bool:
    """Can a spawned process find `function` by its module and name (pickle by reference)?"""
    module = sys.modules.get(getattr(function, "__module__", "") or "")
    name = getattr(function, "__qualname__", "")
    if module is None or "<" in name or module.__name__ == "__main__":
        return False
    found: Any = module
    for part in name.split("."):
        found = getattr(found, part, None)
    return found is function
