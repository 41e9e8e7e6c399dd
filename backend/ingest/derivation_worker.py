"""The derivation runner's worker process, and the API process's end of the link to it.

Rebuilding the positions a batch touched costs more CPU than storing the batch.
In a thread it competes with validation and the writer for the API process's
GIL; in a process of its own it runs on the other core. SQLite still has one
write lock, so the worker yields it: before each position it waits (at most
`max_yield_seconds`) while the API process's writer has batches queued, which
the writer signals through a shared flag.

The link counts wake-ups: `notify()` raises `requested` (shared memory) and
writes a byte to the worker's wake pipe; the worker reads `requested` before
each round and sends it back with the round's result, and the API process runs
the listeners and timers with that result before it counts the round as
`completed`. `wait_idle()` waits for `completed >= requested`. Pipes, not
multiprocessing's Event or Queue: a worker killed while waiting on those can
leave their shared locks held and hang the API process. Each worker gets pipes
of its own, so a dead one is simply replaced. Pending work stays in
`pending_derivation` rows, so a worker that dies loses nothing, and a restarted
server finishes what was left.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from backend.db.engine import Database
from backend.ingest.derivations import DerivationRunner, Deriver, Preparer, Round, WorkerConfig
from backend.runtime import spawn_worker, stop_process, tune_gc

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")  # no forked copies of threads and connections
_POLL_SECONDS = 0.5  # how often the worker checks that its parent lives


class WorkerLink:
    """The API process's side: starts the worker, wakes it, hears its rounds."""

    def __init__(self, runner: DerivationRunner, config: WorkerConfig, busy_flag: Any) -> None:
        self.runner = runner
        self.config = config
        self.busy_flag = busy_flag if busy_flag is not None else _CONTEXT.RawValue("b", 0)
        self._stop_flag = _CONTEXT.RawValue("b", 0)
        self._requested_shared = _CONTEXT.RawValue("q", 0)
        self._state = threading.Condition()
        self._requested = 0
        self._completed = 0
        self._stopping = False
        self._process: BaseProcess | None = None
        self._wake: Connection | None = None  # write a byte to wake the worker
        self._results: Connection | None = None  # the worker's rounds
        self._reader: threading.Thread | None = None
        self._retry: threading.Timer | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        self._spawn()
        self._reader = threading.Thread(target=self._read, name="derivations-link", daemon=True)
        self._reader.start()
        self.notify()  # finish what a previous process left pending

    def _spawn(self) -> None:
        process, wake_out, results_in = spawn_worker(
            work,
            "fillbook-derivations",
            (
                self.config,
                list(self.runner.preparers),
                list(self.runner.derivers),
                self.runner.retry_seconds,
                self.runner.max_yield_seconds,
                self.busy_flag,
                self._stop_flag,
                self._requested_shared,
            ),
        )
        os.set_blocking(wake_out.fileno(), False)  # a full pipe already holds a wake-up
        with self._state:
            old = (self._wake, self._results)
            self._process, self._wake, self._results = process, wake_out, results_in
        for connection in old:
            if connection is not None:
                connection.close()

    def notify(self) -> None:
        with self._state:
            self._requested += 1
            self._requested_shared.value = self._requested
            self._poke()

    def _poke(self) -> None:
        try:
            if self._wake is not None:
                self._wake.send_bytes(b"w")
        except (BlockingIOError, OSError):  # full (it will wake anyway) or the worker is gone
            pass

    def wait_idle(self, timeout: float) -> bool:
        with self._state:
            return self._state.wait_for(lambda: self._completed >= self._requested, timeout)

    def stop(self, timeout: float) -> None:
        with self._state:
            self._stopping = True
            self._stop_flag.value = 1
            self._poke()
        if self._retry is not None:
            self._retry.cancel()
        if self._process is not None:
            stop_process(self._process, timeout, "the derivation worker")
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None
        for connection in (self._wake, self._results):
            if connection is not None:
                connection.close()

    def _read(self) -> None:
        """Hear each round: timers and listeners here, then count it as completed."""
        while True:
            results, process = self._results, self._process
            assert results is not None
            assert process is not None
            try:
                if not results.poll(_POLL_SECONDS):
                    continue
                requested, result = results.recv()
            except (EOFError, OSError):  # the worker exited
                process.join(5)
                with self._state:
                    if self._stopping:
                        return
                log.error("the derivation worker exited (code %s); starting another",
                          process.exitcode)  # fmt: skip
                self._spawn()
                with self._state:
                    self._poke()
                continue
            self.runner.tell_timers(result)
            if self.runner.tell_listeners(result.done):
                self._retry_later()
            with self._state:
                self._completed = max(self._completed, requested)
                self._state.notify_all()

    def _retry_later(self) -> None:
        with self._state:
            if self._stopping:
                return
        self._retry = threading.Timer(self.runner.retry_seconds, self.notify)
        self._retry.daemon = True
        self._retry.start()


def work(
    config: WorkerConfig,
    preparers: list[Preparer],
    derivers: list[Deriver],
    retry_seconds: float,
    max_yield_seconds: float,
    busy_flag: Any,
    stop_flag: Any,
    requested: Any,
    wake: Connection,
    results: Connection,
) -> None:
    """The worker process: derive whatever is pending each time it is woken."""
    db = Database(
        config.url, busy_timeout_ms=config.busy_timeout_ms, max_page_count=config.max_page_count
    )
    runner = DerivationRunner(
        db,
        retry_seconds=retry_seconds,
        yield_to=lambda: bool(busy_flag.value),
        max_yield_seconds=max_yield_seconds,
    )
    runner.preparers.extend(preparers)
    runner.derivers.extend(derivers)
    tune_gc()
    failed = more = False
    due: float | None = None  # monotonic time when a failed position may be tried again
    try:
        while not stop_flag.value:
            woken = more or wake.poll(retry_seconds if failed else _POLL_SECONDS)
            while wake.poll(0):
                wake.recv_bytes()  # EOFError: the API process is gone
            if stop_flag.value:
                return
            retry_due = due is not None and time.monotonic() >= due
            if not woken and not failed and not retry_due:
                continue
            taken = requested.value
            try:
                result = runner.derive_pending()
            except Exception:
                log.exception("deriving pending positions failed")
                result = Round([], [], True)
            failed, more = result.failed, result.more and not result.failed
            due = None if result.retry_in is None else time.monotonic() + result.retry_in
            # A round that left slices pending completes nothing yet (wait_idle waits on).
            results.send((0 if more else taken, result))
    except (EOFError, BrokenPipeError):
        return
    finally:
        db.dispose()
