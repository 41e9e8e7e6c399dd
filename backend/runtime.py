"""Process-wide tuning for the service's long-running processes (API, writer, deriver)."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Move what start-up built out of the collector's sight, and collect the young
    generation less often: the collector cost 10-20 % of ingest and most of its p99
    (performance-notes.md). Call once the process has imported and built what it keeps."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
