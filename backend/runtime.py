"""Process-wide tuning for the service's long-running processes (API, writer, deriver),
and stopping the workers."""

from __future__ import annotations

import gc
import logging
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

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


SPAWN = multiprocessing.get_context("spawn")  # no forked copies of threads and connections


def spawn_worker(
    target: Callable[..., None], name: str, args: tuple[Any, ...]
) -> tuple[BaseProcess, Connection, Connection]:
    """Start `target(*args, to_worker_end, from_worker_end)` in a spawned process; return
    it with this side's ends: one to write to it, one to read from it. The worker's ends
    are closed here, so that either side sees the other go."""
    to_in, to_out = SPAWN.Pipe(duplex=False)
    from_in, from_out = SPAWN.Pipe(duplex=False)
    process = SPAWN.Process(target=target, name=name, args=(*args, to_in, from_out), daemon=True)
    process.start()
    to_in.close()
    from_out.close()
    return process, to_out, from_in
