"""The events Fillbook itself publishes, built from the rows of their causes.

Each is called inside the transaction that records its cause, so the event commits or
rolls back with it (backend/webhooks/outbox.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import Backtest, Strategy, StrategyRun, TrainingJob
from backend.webhooks.events import EventType
from backend.webhooks.outbox import publish

# The headline figures a run.ended event carries (the rest: GET /api/runs/{id}/metrics).
RUN_METRICS = ("net_pnl", "gross_pnl", "commission", "trade_count", "win_rate",
               "profit_factor", "max_drawdown", "sharpe")  # fmt: skip
FINISHED_TRAINING = ("succeeded", "failed", "cancelled")


def runs_ended(session: Session, ended: Sequence[tuple[int, int]]) -> None:
    """`run.ended` once per end of each run whose final metrics were just stored."""
    if not ended:
        return
    rows = session.execute(
        select(StrategyRun, Strategy.name)
        .join(Strategy, Strategy.id == StrategyRun.strategy_id)
        .where(StrategyRun.id.in_([run_id for _user, run_id in ended]))
    ).all()
    for run, strategy in rows:
        metrics = run.metrics_json or {}
        publish(
            session,
            run.user_id,
            EventType.RUN_ENDED,
            {
                "run_id": run.id,
                "source": run.source,
                "key": run.key,
                "strategy": strategy,
                "mode": str(run.mode),
                "status": str(run.status),
                "ended_ts": run.ended_ts,
                "ended_at": run.ended_at.isoformat() if run.ended_at else None,
                "metrics": {name: metrics.get(name) for name in RUN_METRICS},
            },
            key=f"run.ended:{run.id}:{run.ended_ts}",
        )


def training_finished(session: Session, job: TrainingJob) -> None:
    publish(
        session,
        job.user_id,
        EventType.TRAINING_FINISHED,
        {"job_id": job.id, "run_id": job.run_id, "status": job.status, "error": job.error},
        key=f"training.finished:{job.id}:{job.attempts}:{job.status}",
    )


def backtest_finished(session: Session, backtest: Backtest) -> None:
    publish(
        session,
        backtest.user_id,
        EventType.BACKTEST_FINISHED,
        {
            "backtest_id": backtest.id,
            "status": backtest.status,
            "strategy": backtest.strategy,
            "symbol": backtest.symbol,
            "interval": backtest.interval,
            "run_id": backtest.run_id,
            "error": backtest.error,
        },  # fmt: skip
        key=f"backtest.finished:{backtest.id}",
    )
