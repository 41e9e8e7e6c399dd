from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from backend.analytics import report, service
from backend.analytics.metrics import MIN_ANNUALISED_DAYS, describe
from backend.analytics.orders import describe_orders
from backend.analytics.schemas import BreakdownRead, RunMetricsRead
from backend.analytics.spool import Spool
from backend.api.deps import ContextDep, SessionDep
from backend.auth.deps import CanRead

MIN_POINTS, MAX_POINTS = 16, 100_000

router = APIRouter(prefix="/api", tags=["analytics"])

Dimension = Literal[
    "symbol", "direction", "regime", "hour", "weekday", "instance", "tag", "playbook", "mistake"
]
Mode = Literal["live", "paper", "backtest"]


MaxPoints = Annotated[
    int | None,
    Query(
        ge=MIN_POINTS,
        le=MAX_POINTS,
        description="at most this many curve points (peak and trough kept exactly); all if unset",
    ),
]


class MetricDefinition(BaseModel):
    name: str
    label: str = Field(description="what to show a person: never the raw name")
    unit: Literal["currency", "fraction", "ratio", "count", "seconds", "days", "R", "ticks"]
    formula: str
    description: str = Field(description="one line: what the number tells")
    annualised: bool = Field(
        description=f"scaled to a year: null unless the returns span {MIN_ANNUALISED_DAYS} "
        "business days or more"
    )
    interval: str | None = Field(
        None,
        description="how its confidence interval (ci_low, ci_high in metrics and breakdowns) "
        "is computed; null: it has none",
    )


DefinitionScope = Annotated[
    Literal["trades", "orders"],
    Query(
        description="trades: the run metrics (GET /api/runs/{id}/metrics); orders: the order "
        "metrics (GET /api/runs/{id}/order-analytics)"
    ),
]


@router.get("/metrics/definitions", operation_id="metric_definitions")
def metric_definitions(
    _principal: CanRead, scope: DefinitionScope = "trades"
) -> list[MetricDefinition]:
    """Every metric's name, human label, unit, formula and one-line explanation."""
    rows = describe() if scope == "trades" else describe_orders()
    return [MetricDefinition.model_validate(row) for row in rows]


@router.get("/runs/{run_id}/metrics", operation_id="get_run_metrics")
def get_run_metrics(
    run_id: int, principal: CanRead, session: SessionDep, context: ContextDep
) -> RunMetricsRead:
    """Every metric of the run, computed now (and stored); nulls come with their reason,
    and `confidence` holds the 95 % intervals and the probabilistic Sharpe ratio."""
    # Computed in a read transaction: holding SQLite's write lock for the computation
    # made reads fail with "database is locked" under heavy ingest (bench/load.py).
    document = service.run_metrics(session, principal.user_id, run_id, store=False)
    service.store_metrics(context.db, run_id, document)
    return RunMetricsRead.model_validate(document)


@router.get("/runs/{run_id}/series", operation_id="get_run_series")
def get_run_series(
    run_id: int, principal: CanRead, session: SessionDep, max_points: MaxPoints = None
) -> dict[str, Any]:
    """Equity and drawdown after each exit (downsampled to `max_points`), daily PnL."""
    return service.run_series(session, principal.user_id, run_id, max_points)


@router.get("/runs/{run_id}/breakdowns", operation_id="get_run_breakdown")
def get_run_breakdown(
    run_id: int, by: Dimension, principal: CanRead, session: SessionDep
) -> BreakdownRead:
    """Core metrics per symbol, direction, regime, hour, weekday, instance, tag, playbook
    or mistake, each group with its confidence intervals."""
    user = principal.user
    return BreakdownRead.model_validate(
        service.run_breakdown(session, user.id, user.timezone, run_id, by)
    )


@router.get("/runs/{run_id}/calendar", operation_id="get_run_calendar")
def get_run_calendar(run_id: int, principal: CanRead, session: SessionDep) -> dict[str, Any]:
    """Net PnL per day of exit in the user's time zone."""
    user = principal.user
    return service.run_calendar(session, user.id, user.timezone, run_id)


@router.get("/portfolio", operation_id="get_portfolio")
def get_portfolio(
    principal: CanRead,
    session: SessionDep,
    mode: Mode | None = None,
    strategy: str | None = None,
    max_points: MaxPoints = None,
) -> dict[str, Any]:
    """All the caller's runs (filtered by mode and strategy) combined: the headline numbers.

    Without `mode` every mode is added together; `runs_by_mode` says how many of each.
    """
    user = principal.user
    return service.portfolio(
        session, user.id, user.timezone, mode=mode, strategy=strategy, max_points=max_points
    )


@router.get("/portfolio/breakdowns", operation_id="get_portfolio_breakdown")
def get_portfolio_breakdown(
    by: Dimension,
    principal: CanRead,
    session: SessionDep,
    mode: Mode | None = None,
    strategy: str | None = None,
) -> BreakdownRead:
    """Core metrics per group across the caller's runs, with confidence intervals."""
    user = principal.user
    return BreakdownRead.model_validate(
        service.portfolio_breakdown(
            session, user.id, user.timezone, by, mode=mode, strategy=strategy
        )
    )


@router.get("/compare", operation_id="compare_runs")
def compare_runs(
    a: int,
    b: int,
    principal: CanRead,
    session: SessionDep,
    tolerance_s: Annotated[float, Query(gt=0, le=86_400)] = 60.0,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Run B against run A: matched trades with slippage and PnL difference, metric deltas.

    The trade lists are paged (`offset`, `limit`, each list alike); `counts` and the
    summary cover every trade.
    """
    return service.compare(
        session, principal.user_id, a, b, tolerance_s, offset=offset, limit=limit
    )


@router.get(
    "/runs/{run_id}/report",
    operation_id="get_run_report",
    responses={200: {"content": {"text/csv": {}}}},
)
def get_run_report(
    run_id: int,
    principal: CanRead,
    context: ContextDep,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Everything about a run as JSON, or its trades as CSV, to download."""
    # Streamed: written page by page from one snapshot, spooled ahead of a slow client
    # (backend/analytics/spool.py); a run that is not the caller's is a 404 before any byte.
    chunks = Spool(report.report(context.db, principal.user_id, run_id, format))
    chunks.start()
    media_type, name = (
        ("text/csv", "trades.csv") if format == "csv" else ("application/json", "report.json")
    )
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}-{name}"'},
    )
