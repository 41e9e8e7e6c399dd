"""Process-wide tuning for the service's long-running processes (API, writer, deriver),
and stopping the workers."""

from __future__ import annotations

import gc
import logging
from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)


def tune_gc() -> None:
    """Move what start-up built out of the collector's sight, and collect the young
    generation less often: the collector cost 10-20 % of ingest and most of its p99
    (performance-notes.md). Call once the process has imported and built what it keeps."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


def stop_process(process: BaseProcess, timeout: float, what: str) -> None:
    """Wait up to `timeout` for a worker told to stop, then terminate it."""
    process.join(timeout)
    if process.is_alive():
        log.warning("%s did not stop in %ss; terminating it", what, timeout)
        process.terminate()
        process.join(5)
