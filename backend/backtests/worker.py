"""What runs in a backtest's worker process: the backtester, pushing to this same service.

The API process starts `run` in a fresh interpreter (multiprocessing `spawn`),
hands it a `WorkerJob` and a queue, and reads back `("progress", done, total)`,
then one `("completed", result, report)` or `("failed", error, report)`. The
worker never touches the database: its run reaches the service through the
ingest API, with an API key made for this backtest, like any exporter's.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

PROGRESS_EVERY_S = 0.25


class Outbox(Protocol):
    def put(self, item: Any) -> None: ...


@dataclass(frozen=True)
class WorkerJob:
    backtest_id: int
    url: str
    api_key: str
    run_key: str
    strategy: str
    interval: str
    params: dict[str, Any]
    symbol: str
    settings: dict[str, Any]
    dataset: str | None  # an uploaded CSV; None: the user's stored 1-second bars
    spool_dir: str
    start: int | None = None
    end: int | None = None
    # False when the symbol's instrument is stored: the run is priced by it, never changes it
    send_instrument: bool = True
    synthetic_seconds: int | None = None  # demo data: this many built-in random-walk bars
    source: str = "backtester"
    run_label: str | None = None  # the run's strategy name when not the plug-in's


def run(job: WorkerJob, outbox: Outbox) -> None:
    """The worker process's entry point."""
    report: dict[str, Any] | None = None
    try:
        from services.backtester.data import load_csv, load_stored
        from services.backtester.matching import FillRules
        from services.backtester.runner import PushTarget, RunSpec, run_backtest
        from services.backtester.sinks import Instrument

        settings = job.settings
        if job.synthetic_seconds is not None:
            from services.backtester.data import LoadReport
            from services.backtester.synthetic import random_walk

            seconds = random_walk(job.synthetic_seconds, seed=24, tick=settings["tick_size"])
            load_report = LoadReport(rows_read=len(seconds), rows_kept=len(seconds))
        elif job.dataset is not None:
            seconds, load_report = load_csv(job.dataset)
        else:
            seconds, load_report = load_stored(
                job.url, job.api_key, job.symbol, start=job.start, end=job.end
            )
        report = load_report.as_dict()
        outbox.put(("loaded", report))
        spec = RunSpec(
            data=seconds,
            strategy=job.strategy,
            interval=job.interval,
            params=job.params,
            instrument=Instrument(
                job.symbol, settings["multiplier"], settings["tick_size"], settings["currency"]
            ),
            rules=FillRules(
                slippage_ticks=settings["slippage_ticks"],
                commission_per_contract=settings["commission"],
                commission_rate=settings["commission_rate"],
                both_touched=settings["both_touched"],
                limit_fill=settings["limit_fill"],
                volume_participation=settings["participation"],
            ),
            initial_capital=settings["initial_capital"],
        )
        push = PushTarget(
            job.url, job.api_key, source=job.source, run_key=job.run_key,
            spool_dir=Path(job.spool_dir),
            instance=f"{job.symbol} {job.interval} #{job.backtest_id}",
            send_instrument=job.send_instrument, strategy_name=job.run_label,
        )  # fmt: skip
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY_S or done == total:
                last[0] = now
                outbox.put(("progress", done, total))

        outcome = run_backtest(spec, push=push, progress=progress, seconds=seconds)
        summary = outcome.result.summary()
        summary["pushed"] = outcome.pushed
        outbox.put(("completed", summary, report))
    except BaseException as exc:  # the parent must always hear how it ended
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        outbox.put(("failed", detail[:2000], report))
        if not isinstance(exc, Exception):
            raise
