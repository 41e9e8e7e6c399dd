"""Work that follows a committed batch: re-deriving the positions it touched.

The writer records each touched (run, account, symbol) in `pending_derivation`
in the same transaction as the fills, so the work survives a crash. This
runner, a thread of its own so that ingest responses never wait for it, takes
each pending row in a write transaction of its own: deletes it, runs every
registered deriver over it, commits. A deriver that fails rolls the row back
in; it is retried on the next wake-up. On start it finishes whatever a
previous process left.

A position is derived in three short steps, so that SQLite's one write lock is held only
to write, never to read or compute:

1. claim (a write of one row): the row is marked taken (`claimed_at`) and `touched_from`
   cleared;
2. prepare (a read transaction): each registered preparer reads and computes, returning
   what to write (the trade rebuild: backend/trades/rebuild.py `prepare_rebuild`);
3. write (a write transaction): the prepared writes run, then the plain derivers (which
   read and write in that one transaction), then the row: deleted when the position is
   done; else `from_ts` becomes the earlier of where a bounded slice stopped and
   `touched_from`, the earliest time new data of the position arrived since the claim
   (the ingest writer sets it in the transaction that stores that data), and the next
   round goes on.

A crash between the steps loses nothing: `from_ts` is only ever lowered until the write
step, so the row stands, and a claim older than `CLAIM_SECONDS` is anybody's again.

Given a `WorkerConfig`, the runner derives in a worker process of its own
instead (backend/ingest/derivation_worker.py): rebuilding trades is most of
ingest's CPU, and in a thread it shares the API process's GIL with validation
and the writer. The interface stays the same: `notify()` wakes the worker,
`wait_idle()` waits for its answer, and the listeners and timers run here, in
the API process, with what it reports.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.db.engine import Database
from backend.db.errors import is_busy
from backend.db.models import PendingDerivation

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
# A two-step deriver: reads and computes in a read session, and returns what to run in the
# write session (which returns, like a Deriver, the time the position is still stale from).
Prepared = Callable[[Session], int | None]
Preparer = Callable[[Session, Derivation], Prepared]
Listener = Callable[[list[Derivation]], None]


@dataclass(frozen=True)
class WorkerConfig:
    """How a derivation worker process opens the database (the API's `Database` settings)."""

    url: str
    busy_timeout_ms: int = 5000
    max_page_count: int | None = None
    # False where the ingest writer process checkpoints the WAL beside it: a commit of a
    # 20,000-fill slice would otherwise checkpoint inside itself, holding the write lock.
    wal_autocheckpoint: bool = True


@dataclass
class Round:
    """What one pass over the pending positions did."""

    done: list[Derivation]
    seconds: list[float]  # each derived position's derive time
    failed: bool  # some stay pending because the database was busy: retry soon
    more: bool = False  # a deriver stopped after a slice: the next round goes on at once
    failures: int = 0  # positions whose rebuild raised: marked failed, retried with back-off
    retry_in: float | None = None  # seconds until the next failed position is due again
    writes: list[float] = field(default_factory=list)  # each write step's seconds (the lock)


MAX_BACKOFF_SECONDS = 3600.0
# A claim older than this is taken to be a crashed runner's: any runner may derive the row.
CLAIM_SECONDS = 120.0


def backoff_seconds(attempts: int, base: float) -> float:
    """How long a position that failed `attempts` times in a row waits: base, 2x, 4x ... 1 h."""
    return float(min(base * 2 ** min(attempts - 1, 20), MAX_BACKOFF_SECONDS))


class DerivationRunner:
    def __init__(
        self,
        db: Database,
        *,
        retry_seconds: float = 5.0,
        yield_to: Callable[[], bool] = lambda: False,
        max_yield_seconds: float = 0.05,
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
        self.preparers: list[Preparer] = []  # two-step derivers, run first
        self.derivers: list[Deriver] = []  # derivers that read and write in the write step
        self.listeners: list[Listener] = []
        self.timers: list[Callable[[float], None]] = []  # hear each position's derive seconds
        self.failure_counters: list[Callable[[], None]] = []  # hear each failed rebuild
        self.retry_seconds = retry_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._link: WorkerLink | None = None
        # Rows this runner claimed: after a failed write it takes them again at once.
        self._claims: set[int] = set()

    def start(self) -> None:
        self._retry_failed_now()
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

    def _retry_failed_now(self) -> None:
        """A new process may run fixed code: positions that failed before are due at once.

        On SQLite this is the only runner (docs/scaling.md: one process), so every claim
        left is a killed process's: released now rather than after CLAIM_SECONDS. On
        PostgreSQL other workers' runners may hold live claims; a dead one's expire.
        """
        try:
            with self.db.session(write=True) as session:
                session.execute(
                    update(PendingDerivation)
                    .where(PendingDerivation.retry_at.is_not(None))
                    .values(retry_at=None)
                )
                if self.db.engine.dialect.name == "sqlite":
                    session.execute(
                        update(PendingDerivation)
                        .where(PendingDerivation.claimed_at.is_not(None))
                        .values(claimed_at=None)
                    )
        except Exception:  # no table yet, or the database is away: the back-off stands
            log.warning("could not make failed positions due at start", exc_info=True)

    @property
    def worker_pid(self) -> int | None:
        """The worker process deriving for this runner, or None when it derives in a thread."""
        return None if self._link is None else self._link.pid

    def _can_use_worker(self) -> bool:
        if self.worker is None:
            return False
        named = all(is_importable(deriver) for deriver in [*self.preparers, *self.derivers])
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
        retry_in: float | None = None
        while not self._stopping.is_set():
            self._wake.wait(timeout=min(self.retry_seconds, retry_in or self.retry_seconds))
            with self._idle:
                self._busy = True
                self._wake.clear()
            try:
                failed, retry_in = self.run_pending_round()
            except Exception:
                log.exception("deriving pending positions failed")
                failed, retry_in = True, None
            with self._idle:
                self._busy = False
                self._idle.notify_all()
            if failed:
                self._stopping.wait(self.retry_seconds)

    def run_pending(self) -> bool:
        """Derive every pending position that is due, slice after slice, telling the
        listeners after each round; True when some stay pending because of a busy database
        (positions whose rebuild raised are marked failed and retried later with back-off)."""
        return self.run_pending_round()[0]

    def run_pending_round(self) -> tuple[bool, float | None]:
        """`run_pending`, and the seconds until a failed position is due again."""
        while True:
            result = self.derive_pending()
            self.tell_timers(result)
            failed = self.tell_listeners(result.done) or result.failed
            if failed or not result.more:
                return failed, result.retry_in

    def tell_timers(self, result: Round) -> None:
        for seconds in result.seconds:
            for timer in self.timers:
                timer(seconds)
        for _ in range(result.failures):
            for counter in self.failure_counters:
                counter()

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
        """Run the derivers once over every pending position that is due (no listeners, no
        timers). A position whose rebuild raises is marked failed with the reason and left
        for a later try (back-off); it never holds up the others."""
        now = dt.datetime.now(dt.UTC)
        with self.db.session() as session:
            rows = session.execute(
                select(PendingDerivation.id, PendingDerivation.retry_at).order_by(
                    PendingDerivation.id
                )
            ).all()
        result = Round([], [], False)
        for row_id, retry_at in rows:
            if retry_at is not None and retry_at > now:
                result.retry_in = _sooner(result.retry_in, (retry_at - now).total_seconds())
                continue
            self._let_ingest_go_first()
            try:
                derivation = self._derive_one(row_id, result)
            except Exception as exc:
                if is_busy(exc):  # ingest kept SQLite's write lock: not an error, later
                    result.failed = True
                    log.info("ingest is busy; deriving the pending positions later")
                    break
                log.warning("deriving pending position %s failed; will retry", row_id,
                            exc_info=exc)  # fmt: skip
                if not self._mark_failed(row_id, exc, result):
                    result.failed = True
                continue
            if derivation is not None:
                result.done.append(derivation)
        return result

    def _mark_failed(self, row_id: int, exc: Exception, result: Round) -> bool:
        """Record why a position's rebuild failed and when to try again; False if even that
        could not be written (then the round is retried soon)."""
        now = dt.datetime.now(dt.UTC)
        try:
            with self.db.session(write=True) as session:
                row = session.get(PendingDerivation, row_id)
                if row is None:
                    return True
                row.attempts += 1
                row.error = failure_text(exc)
                row.failed_at = row.failed_at or now
                wait = backoff_seconds(row.attempts, self.retry_seconds)
                row.retry_at = now + dt.timedelta(seconds=wait)
                _release(row)
        except Exception:
            log.exception("recording the failure of pending position %s failed", row_id)
            return False
        result.failures += 1
        result.retry_in = _sooner(result.retry_in, wait)
        return True

    def _let_ingest_go_first(self) -> None:
        deadline = time.monotonic() + self.max_yield_seconds
        while self.yield_to() and time.monotonic() < deadline:
            time.sleep(0.002)

    def _derive_one(self, row_id: int, result: Round) -> Derivation | None:
        derivation = self._claim(row_id)
        if derivation is None:  # taken by another runner, or done
            return None
        started = time.perf_counter()
        prepared: list[Prepared] = []
        if self.preparers:
            with self.db.session() as session:
                prepared = [prepare(session, derivation) for prepare in self.preparers]
        self._let_ingest_go_first()
        writing = time.perf_counter()
        with self.db.session(write=True) as session:
            stops = [write(session) for write in prepared]
            stops += [deriver(session, derivation) for deriver in self.derivers]
            row = session.get(PendingDerivation, row_id)
            if row is not None:  # else its run was deleted meanwhile
                resume = [ts for ts in [*stops, row.touched_from] if ts is not None]
                if resume:  # a slice stopped early, or new data came: pending again
                    row.from_ts = min(resume)
                    _release(row)
                    result.more = True
                else:
                    session.delete(row)
        self._claims.discard(row_id)
        result.writes.append(time.perf_counter() - writing)
        result.seconds.append(time.perf_counter() - started)
        return derivation

    def _claim(self, row_id: int) -> Derivation | None:
        now = dt.datetime.now(dt.UTC)
        with self.db.session(write=True) as session:
            row = session.get(PendingDerivation, row_id)
            if row is None:
                return None
            if (
                row.claimed_at is not None
                and row.claimed_at > now - dt.timedelta(seconds=CLAIM_SECONDS)
                and row_id not in self._claims
            ):
                return None
            row.claimed_at, row.touched_from = now, None
            self._claims.add(row_id)
            return Derivation(row.user_id, row.run_id, row.account, row.symbol, row.from_ts)


def _release(row: PendingDerivation) -> None:
    row.claimed_at = row.touched_from = None


def failure_text(exc: BaseException) -> str:
    """What a user is told about a failed rebuild: the exception's type and first line."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else 'no message'}"[:500]


def _sooner(current: float | None, seconds: float) -> float:
    return seconds if current is None else min(current, seconds)


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
