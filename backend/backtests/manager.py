"""Worker processes for backtests: at most `max_workers` at a time, the rest wait their turn.

Each worker is a fresh interpreter (multiprocessing `spawn`: nothing of the API
process, its threads or its database connections is inherited). One monitor
thread per worker reads its queue, stores progress and the outcome, publishes
`backtest_progress` messages on the user's live channel, and revokes the API key
made for the backtest when it ends.

A backtest belongs to the process that runs it. That process's heartbeat thread
keeps `updated_at` of its queued and running backtests fresh; any process's
heartbeat marks failed ("interrupted") an unfinished backtest whose heartbeat has
stopped for `STALE_AFTER`, i.e. whose process died. So a restart, or a second
worker process, never fails a backtest that is still alive elsewhere, and reads
never write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.backtests import repository
from backend.backtests.worker import WorkerJob, run
from backend.db.models import ApiKey, Backtest
from backend.webhooks.causes import backtest_finished

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from backend.api.context import AppContext

log = logging.getLogger(__name__)

MAX_WORKERS = 2
STORE_PROGRESS_EVERY_S = 1.0
HEARTBEAT_S = 5.0
STALE_AFTER = dt.timedelta(seconds=30)  # six missed heartbeats: the owning process is gone


@dataclass(frozen=True)
class Launch:
    job: WorkerJob
    user_id: int


class BacktestManager:
    """Starts, watches and finishes the backtests of one API process."""

    def __init__(self, context: AppContext, max_workers: int = MAX_WORKERS) -> None:
        self.context = context
        self.max_workers = max_workers
        self._mp = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._waiting: deque[Launch] = deque()
        self._running: dict[int, BaseProcess] = {}
        self._stopping = threading.Event()
        self._heartbeat = threading.Thread(
            target=self._beat, name="backtest-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the heartbeat (workers still running are left to finish or be orphaned)."""
        self._stopping.set()
        self._heartbeat.join(timeout)

    def _beat(self) -> None:
        while not self._stopping.is_set():
            try:
                self._touch_active()
                self._fail_orphans()
            except Exception:  # the database may be briefly unavailable: next beat
                log.exception("backtest heartbeat failed")
            self._stopping.wait(HEARTBEAT_S)

    def submit(self, launch: Launch) -> None:
        with self._lock:
            self._waiting.append(launch)
        self._start_ready()

    def active(self) -> set[int]:
        with self._lock:
            return set(self._running) | {launch.job.backtest_id for launch in self._waiting}

    def _start_ready(self) -> None:
        while True:
            with self._lock:
                if not self._waiting or len(self._running) >= self.max_workers:
                    return
                launch = self._waiting.popleft()
                outbox = self._mp.Queue()
                process = self._mp.Process(
                    target=run,
                    args=(launch.job, outbox),
                    name=f"backtest-{launch.job.backtest_id}",
                    daemon=True,
                )
                self._running[launch.job.backtest_id] = process
            try:
                process.start()
            except Exception as exc:
                self._finish(launch, "failed", None, f"the worker did not start: {exc}", None)
                continue
            self._update(launch, status="running")
            self._publish(launch, "running", 0.0)
            threading.Thread(
                target=self._watch, args=(launch, process, outbox),
                name=f"backtest-{launch.job.backtest_id}-watch", daemon=True,
            ).start()

    def _watch(self, launch: Launch, process: BaseProcess, outbox: Any) -> None:
        status, result, error, report = "failed", None, None, None
        stored = 0.0
        try:
            while True:
                try:
                    message = outbox.get(timeout=0.5)
                except queue.Empty:
                    if not process.is_alive():
                        error = f"the worker exited (code {process.exitcode}) without a result"
                        break
                    continue
                kind = message[0]
                if kind == "loaded":
                    report = message[1]
                    self._update(launch, report=report)
                elif kind == "progress":
                    fraction = message[1] / max(message[2], 1)
                    self._publish(launch, "running", fraction)
                    if time.monotonic() - stored >= STORE_PROGRESS_EVERY_S:
                        stored = time.monotonic()
                        self._update(launch, progress=fraction)
                elif kind == "completed":
                    status, result, report = "completed", message[1], message[2]
                    break
                else:
                    status, error, report = "failed", message[1], message[2]
                    break
            process.join(timeout=30)
        except Exception as exc:  # keep the manager alive whatever happened here
            log.exception("watching backtest %s failed", launch.job.backtest_id)
            error = f"watching the worker failed: {exc}"
        finally:
            self._finish(launch, status, result, error, report)

    def _finish(
        self,
        launch: Launch,
        status: str,
        result: dict[str, Any] | None,
        error: str | None,
        report: dict[str, Any] | None,
    ) -> None:
        job = launch.job
        try:
            with self.context.db.session(write=True) as session:
                backtest = repository.get_any(session, job.backtest_id)
                if backtest is not None:
                    backtest.status = status
                    backtest.result = result
                    backtest.error = error
                    if report is not None:
                        backtest.report = report
                    backtest.progress = 1.0 if status == "completed" else backtest.progress
                    backtest.run_id = repository.run_id(
                        session, launch.user_id, job.source, job.run_key
                    )
                    backtest.updated_at = backtest.finished_at = dt.datetime.now(dt.UTC)
                    _revoke(session, backtest)
                    backtest_finished(session, backtest)  # the webhook, with this commit
            self._publish(launch, status, 1.0 if status == "completed" else None, error=error)
        finally:
            if job.dataset is not None:
                with contextlib.suppress(OSError):
                    Path(job.dataset).unlink()
            with self._lock:
                self._running.pop(job.backtest_id, None)
            self._start_ready()

    def _update(self, launch: Launch, **values: Any) -> None:
        with self.context.db.session(write=True) as session:
            backtest = repository.get_any(session, launch.job.backtest_id)
            if backtest is None:
                return
            for name, value in values.items():
                setattr(backtest, name, value)
            backtest.updated_at = dt.datetime.now(dt.UTC)

    def _publish(
        self, launch: Launch, status: str, progress: float | None, error: str | None = None
    ) -> None:
        message: dict[str, Any] = {
            "type": "backtest_progress",
            "backtest_id": launch.job.backtest_id,
            "status": status,
            "run_key": launch.job.run_key,
        }
        if progress is not None:
            message["progress"] = round(progress, 4)
        if error is not None:
            message["error"] = error
        self.context.broker.publish(launch.user_id, message)

    def _touch_active(self) -> None:
        active = self.active()
        if active:
            with self.context.db.session(write=True) as session:
                repository.touch(session, active, dt.datetime.now(dt.UTC))

    def _fail_orphans(self) -> None:
        """Backtests whose process stopped beating will not finish: say so."""
        now = dt.datetime.now(dt.UTC)
        with self.context.db.session() as session:
            orphans = [b.id for b in repository.unfinished(session, stale_before=now - STALE_AFTER)]
        orphans = [backtest_id for backtest_id in orphans if backtest_id not in self.active()]
        if not orphans:
            return
        with self.context.db.session(write=True) as session:
            for backtest in repository.unfinished(session, stale_before=now - STALE_AFTER):
                if backtest.id not in orphans:
                    continue
                backtest.status = "failed"
                backtest.error = "interrupted: the server stopped before the backtest finished"
                backtest.updated_at = backtest.finished_at = now
                backtest_finished(session, backtest)
                _revoke(session, backtest)


def _revoke(session: Any, backtest: Backtest) -> None:
    if backtest.api_key_id is None:
        return
    key = session.get(ApiKey, backtest.api_key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = dt.datetime.now(dt.UTC)


def manager(context: AppContext) -> BacktestManager:
    """The app's backtest manager, created on first use."""
    found = context.extras.get("backtests")
    if found is None:
        with _CREATE:
            found = context.extras.get("backtests")
            if found is None:
                found = context.extras["backtests"] = BacktestManager(context)
    assert isinstance(found, BacktestManager), f"extras['backtests'] is {type(found).__name__}"
    return found


_CREATE = threading.Lock()
