"""What a worker process runs: one job, from its stored request to its artifacts.

Started with the `spawn` method, so TensorFlow is loaded only here, never in the
API process. Progress and the learning curve go to the job store as training
goes; a cancel request is seen at the next progress report.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from pathlib import Path

log = logging.getLogger(__name__)


def _exit_with_parent(parent_pid: int, interval: float = 1.0) -> None:
    """A worker outliving its node (killed) would train for nobody: it stops too."""
    while True:
        time.sleep(interval)
        if os.getppid() != parent_pid:
            os._exit(3)


def run_job(data_dir: str, job_id: str, tf_threads: int = 1) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    threading.Thread(
        target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True
    ).start()
    from services.training_node.model import configure_tensorflow
    from services.training_node.pipeline import run_training
    from services.training_node.settings import TrainRequest
    from services.training_node.store import CANCELLED, FAILED, SUCCEEDED, JobStore
    from services.training_node.trainer import Cancelled, Progress

    configure_tensorflow(tf_threads)
    store = JobStore(Path(data_dir))

    def on_progress(progress: Progress) -> None:
        curve = {"episode_returns": progress.episode_returns, "losses": progress.losses}
        if store.update_progress(job_id, progress.step, curve):
            raise Cancelled

    try:
        request = TrainRequest.model_validate_json(store.request_json(job_id))
        report = run_training(request, store.folder(job_id), on_progress)
    except Cancelled:
        store.finish(job_id, CANCELLED, error="cancelled on request")
    except Exception as exc:
        log.exception("job %s failed", job_id)
        detail = "".join(traceback.format_exception_only(exc)).strip()
        store.finish(job_id, FAILED, error=f"training failed: {detail}")
    else:
        store.finish(job_id, SUCCEEDED, report=report)
