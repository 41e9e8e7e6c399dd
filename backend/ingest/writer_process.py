"""The single writer in a process of its own (SQLite), and the API process's link to it.

The writer thread shares the API process's GIL with the event loop, which
parses and validates the next batches meanwhile. sqlite3 gives the GIL back
around every row it steps, and each time it wants it back it queues behind a
validation that holds it for milliseconds: measured on the bench, the writer
spent ~16 us of wall time per event on ~5.7 us of work. In a process of its
own it has a GIL to itself and the other core.

The API process validates as before and hands each batch over a pipe: the
validated events as one orjson document (exact for floats and 64-bit
integers), the rest pickled. A sender thread writes to the pipe, so that the
event loop never blocks on a full pipe; a reader thread hears each committed
group, runs `on_commit` (bar caches, derivations, live updates) here, then
resolves the waiting requests. The worker takes whatever is queued in the pipe
(group commit, as the thread does) and stores it with the same `store_group`.

If the worker dies, every batch it had not answered fails with 503 (the
exporter resends; the ids make that safe) and another worker is started.
`stop()` lets it finish what was sent.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import queue
import sqlite3
import threading
import time
from dataclasses import astuple
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import orjson
from sqlalchemy import text

from backend.db.engine import Database
from backend.errors import AppError, InvalidPayload
from backend.ingest.batch import PreparedBatch, Rejection, StoredBatch
from backend.ingest.derivations import WorkerConfig
from backend.ingest.schemas import RunRef
from backend.ingest.sql import Dialect
from backend.ingest.writer import (
    OnCommit,
    Waiting,
    WriterUnavailable,
    run_on_commit,
    store_group,
)
from backend.runtime import spawn_worker, stop_process, tune_gc

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.5  # how often an idle worker checks that its parent lives
_STOP = b""  # sent last: finish what came before it, then exit
_READY = b"ready"  # the worker's first message: it has the database open and takes jobs
_READY_SECONDS = 60.0  # the most a start waits for that
CHECKPOINT_SECONDS = 0.05
_CRASH_LOOP_SECONDS = 1.0  # a worker that dies sooner than this waits as long to restart


def encode(job_id: int, batch: PreparedBatch) -> bytes:
    events = orjson.dumps(batch.events)
    rejected = [astuple(r) for r in batch.rejected]
    head = (job_id, batch.user_id, batch.source, batch.run.model_dump(), rejected,
            batch.raw_events)  # fmt: skip
    return pickle.dumps((head, events), protocol=pickle.HIGHEST_PROTOCOL)


def decode(message: bytes) -> tuple[int, PreparedBatch]:
    (job_id, user_id, source, run, rejected, raw_events), events = pickle.loads(message)
    return job_id, PreparedBatch(
        user_id,
        source,
        RunRef.model_validate(run),
        [(index, event) for index, event in orjson.loads(events)],
        [Rejection(*r) for r in rejected],
        raw_events,
    )


class WriterLink:
    """The API process's side, with IngestWriter's interface."""

    def __init__(
        self,
        config: WorkerConfig,
        *,
        on_commit: OnCommit | None = None,
        busy_flag: Any = None,
        max_group_events: int = 20_000,
    ) -> None:
        self.config = config
        self.on_commit = on_commit
        self.busy_flag = busy_flag
        self.max_group_events = max_group_events
        self.batches_written = 0
        self._ids = itertools.count(1)
        self._pending: dict[int, Waiting] = {}
        self._state = threading.Lock()
        self._outbox: queue.Queue[tuple[int, bytes]] = queue.Queue()
        self._process: BaseProcess | None = None
        self._jobs: Connection | None = None  # to the worker
        self._results: Connection | None = None  # from the worker
        self._sender: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._stopping = False
        self._spawned = 0.0

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def has_work(self) -> bool:
        with self._state:
            return bool(self._pending)

    def start(self) -> None:
        """Spawn the worker and return once it takes batches: the service reports healthy
        (uvicorn finishes its start) only then, so a batch sent after that is not left
        waiting the second or two a new process needs to import and open the database."""
        if self._process is not None:
            return
        self._spawn()
        assert self._results is not None
        if not self._results.poll(_READY_SECONDS):
            raise RuntimeError(f"the ingest writer did not start in {_READY_SECONDS:g} s")
        if self._results.recv_bytes() != _READY:
            raise RuntimeError("the ingest writer's first message was not its ready signal")
        self._sender = threading.Thread(target=self._send, name="ingest-writer-send", daemon=True)
        self._reader = threading.Thread(target=self._read, name="ingest-writer-read", daemon=True)
        self._sender.start()
        self._reader.start()

    def _spawn(self) -> None:
        process, jobs_out, results_in = spawn_worker(
            work, "fillbook-ingest-writer", (self.config, self.max_group_events)
        )
        self._spawned = time.monotonic()
        with self._state:
            old = (self._jobs, self._results)
            self._process, self._jobs, self._results = process, jobs_out, results_in
        for connection in old:
            if connection is not None:
                connection.close()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the worker finish what was sent, then stop it."""
        if self._process is None:
            return
        with self._state:
            self._stopping = True
        self._outbox.put((0, _STOP))
        if self._sender is not None:
            self._sender.join(timeout)
        stop_process(self._process, timeout, "the ingest writer")
        if self._reader is not None:
            self._reader.join(timeout)
        self._fail_pending(WriterUnavailable("the server is shutting down; resend the batch"))
        for connection in (self._jobs, self._results):
            if connection is not None:
                connection.close()
        self._process = None

    async def submit(self, batch: PreparedBatch) -> StoredBatch:
        """Store `batch`; returns once it is committed."""
        job_id = next(self._ids)
        try:  # before the job is registered: a batch that cannot be sent leaves no state
            message = encode(job_id, batch)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidPayload(f"the batch holds a value that cannot be stored: {exc}") from None
        pending = Waiting.here()
        with self._state:
            if self._process is None or self._stopping:
                raise WriterUnavailable("the ingest writer is not running; retry shortly")
            self._pending[job_id] = pending
            self._signal(True)
        self._outbox.put((job_id, message))
        return await pending.future

    def _signal(self, busy: bool) -> None:
        if self.busy_flag is not None:
            self.busy_flag.value = int(busy)

    def _send(self) -> None:
        while True:
            job_id, message = self._outbox.get()
            with self._state:
                jobs = self._jobs
            try:
                assert jobs is not None
                jobs.send_bytes(message)
            except (OSError, ValueError):  # the worker is gone (a new one gets the next)
                self._fail(job_id, WriterUnavailable("the ingest writer restarted; resend"))
            if message == _STOP:
                return

    def _read(self) -> None:
        while True:
            with self._state:
                results, process = self._results, self._process
            assert results is not None
            assert process is not None
            try:
                message = results.recv_bytes()
            except (EOFError, OSError):  # the worker exited
                process.join(5)
                self._fail_pending(WriterUnavailable("the ingest writer restarted; resend"))
                with self._state:
                    if self._stopping:
                        return
                log.error("the ingest writer exited (code %s); starting another",
                          process.exitcode)  # fmt: skip
                if time.monotonic() - self._spawned < _CRASH_LOOP_SECONDS:
                    time.sleep(_CRASH_LOOP_SECONDS)  # it died at start: no tight respawn loop
                self._spawn()
                continue
            if message == _READY:  # a respawned worker: the jobs sent meanwhile are its
                continue
            self._answer(pickle.loads(message))

    def _answer(self, answered: list[tuple[int, StoredBatch | BaseException]]) -> None:
        stored = [outcome for _id, outcome in answered if isinstance(outcome, StoredBatch)]
        self.batches_written += len(stored)
        run_on_commit(self.on_commit, stored)
        with self._state:
            waiting = [(self._pending.pop(job_id, None), outcome) for job_id, outcome in answered]
            self._signal(bool(self._pending))
        for pending, outcome in waiting:
            if pending is not None:
                pending.resolve(outcome)

    def _fail(self, job_id: int, error: AppError) -> None:
        with self._state:
            pending = self._pending.pop(job_id, None)
            self._signal(bool(self._pending))
        if pending is not None:
            pending.resolve(error)

    def _fail_pending(self, error: AppError) -> None:
        with self._state:
            failed, self._pending = list(self._pending.values()), {}
            self._signal(False)
        for pending in failed:
            pending.resolve(error)


def _portable(outcome: StoredBatch | BaseException) -> StoredBatch | BaseException:
    """An outcome that pickles: AppErrors travel as they are, anything else as a 500."""
    if isinstance(outcome, StoredBatch | AppError):
        return outcome
    return RuntimeError(f"storing the batch failed: {type(outcome).__name__}: {outcome}")


def work(
    config: WorkerConfig, max_group_events: int, jobs: Connection, results: Connection
) -> None:
    """The worker process: store what arrives, a group per transaction, and answer."""
    db = Database(
        config.url,
        busy_timeout_ms=config.busy_timeout_ms,
        max_page_count=config.max_page_count,
        wal_autocheckpoint=False,
    )
    dialect = Dialect(db.engine.dialect.name)
    parent = os.getppid()
    checkpoints = Checkpointer(db)
    checkpoints.start()
    tune_gc()
    try:
        with db.session() as session:  # opens the first connection, as a batch would
            session.execute(text("SELECT 1"))
        results.send_bytes(_READY)
        while True:
            if not jobs.poll(_POLL_SECONDS):
                if os.getppid() != parent:
                    return  # the API process is gone
                continue
            group: list[tuple[int, PreparedBatch]] = []
            stop, size = False, 0
            while size < max_group_events:
                message = jobs.recv_bytes()
                if message == _STOP:
                    stop = True
                    break
                job_id, batch = decode(message)
                group.append((job_id, batch))
                size += len(batch.events) + len(batch.rejected)
                if not jobs.poll(0):
                    break
            if group:
                outcomes = store_group(db, dialect, [batch for _id, batch in group])
                results.send_bytes(
                    pickle.dumps(
                        [(job_id, _portable(o)) for (job_id, _b), o in zip(group, outcomes,
                                                                         strict=True)],
                        protocol=pickle.HIGHEST_PROTOCOL,
                    )
                )  # fmt: skip
            if stop:
                return
    except (EOFError, BrokenPipeError):
        return
    finally:
        checkpoints.stop()
        db.dispose()


class Checkpointer:
    """Copies the WAL back into the database every CHECKPOINT_SECONDS, beside the writer.

    A commit that finds the WAL past 1,000 pages checkpoints it right then, while the
    writer lock is held: on this write path that was a tenth of the writer's time,
    and its tail latency. PASSIVE never waits for anyone: what readers still use is
    copied next time.
    """

    def __init__(self, db: Database) -> None:
        self.path = db.engine.url.database
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.path and self.path != ":memory:":
            self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        assert self.path is not None
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    log.exception("checkpointing the WAL failed; trying again")
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()
