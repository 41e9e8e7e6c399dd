"""Starts queued jobs in worker processes, a few at a time, and watches them.

A thread of the API process. Each job gets its own `spawn`ed process, so a
crash or a memory blow-up in training cannot take the API down, and the API
never holds TensorFlow. A worker that exits while its job is still `running`
(killed, crashed) fails the job with its exit code; a cancelled worker that
does not stop within the grace period is terminated.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.process import BaseProcess

from services.training_node.config import NodeConfig
from services.training_node.store import CANCELLED, FAILED, RUNNING, JobStore
from services.training_node.worker import run_job

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, config: NodeConfig, store: JobStore, interval: float = 0.2) -> None:
        self.config = config
        self.store = store
        self.interval = interval
        self._context = multiprocessing.get_context("spawn")
        self._workers: dict[str, BaseProcess] = {}
        self._cancel_seen: dict[str, float] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        failed = self.store.fail_running(
            "the training node stopped while this job was running; it was marked failed when "
            "the node restarted"
        )
        for job_id in failed:
            log.warning("job %s was running when the node stopped: failed", job_id)
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for job_id, process in list(self._workers.items()):
            if process.is_alive():
                process.terminate()
                process.join(timeout)
            self.store.finish(job_id, FAILED, error="the training node shut down during training")

    def notify(self) -> None:
        self._wake.set()

    @property
    def active(self) -> int:
        return len(self._workers)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._tick()
            except Exception:
                log.exception("scheduler tick failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def _tick(self) -> None:
        for job_id, process in list(self._workers.items()):
            if not process.is_alive():
                process.join()
                del self._workers[job_id]
                self._cancel_seen.pop(job_id, None)
                self.store.finish(
                    job_id,
                    FAILED,
                    error=f"the worker process exited with code {process.exitcode} "
                    "before finishing the job",
                )
                continue
            self._enforce_cancel(job_id, process)
        while len(self._workers) < self.config.max_workers and not self._stopping.is_set():
            claimed = self.store.claim_next()
            if claimed is None:
                break
            job_id = claimed
            process = self._context.Process(
                target=run_job,
                args=(str(self.store.data_dir), job_id, self.config.tf_threads),
                name=f"training-{job_id[:8]}",
                daemon=True,
            )
            process.start()
            self._workers[job_id] = process
            log.info("job %s started in process %s", job_id, process.pid)

    def _enforce_cancel(self, job_id: str, process: BaseProcess) -> None:
        record = self.store.get(job_id)
        if record is None or not record.cancel_requested or record.status != RUNNING:
            return
        seen = self._cancel_seen.setdefault(job_id, time.monotonic())
        if time.monotonic() - seen > self.config.cancel_grace_s:
            process.terminate()
            process.join(5.0)
            del self._workers[job_id]
            self.store.finish(job_id, CANCELLED, error="cancelled on request (worker stopped)")
