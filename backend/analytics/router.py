from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from backend.analytics import report, service
from backend.analytics.metrics import describe
from backend.analytics.spool import Spool
from backend.api.deps import ContextDep, SessionDep
from backend.auth.deps import CanRead

router = APIRouter(prefix="/api", tags=["analytics"])

Dimension = Literal["symbol", "direction", "regime", "hour", "weekday", "instance", "tag"]
Mode = Literal["live", "paper", "backtest"]


@router.get("/metrics/definitions", operation_id="metric_definitions")
def metric_definitions(_principal: CanRead) -> list[dict[str, Any]]:
    """Every metric's name, unit and formula."""
    return describe()


@router.get("/runs/{run_id}/metrics", operation_id="get_run_metrics")
def get_run_metrics(
    run_id: int, principal: CanRead, session: SessionDep, context: ContextDep
) -> dict[str, Any]:
    """Every metric of the run, computed now (and stored); nulls come with their reason."""
    # Computed in a read transaction: holding SQLite's write lock for the computation
    # made reads fail with "database is locked" under heavy ingest (bench/load.py).
    document = service.run_metrics(session, principal.user_id, run_id, store=False)
    service.store_metrics(context.db, run_id, document)
    return document


@router.get("/runs/{run_id}/series", operation_id="get_run_series")
def get_run_series(run_id: int, principal: CanRead, session: SessionDep) -> dict[str, Any]:
    """Equity and drawdown after each exit, and daily PnL, for charts."""
    return service.run_series(session, principal.user_id, run_id)


@router.get("/runs/{run_id}/breakdowns", operation_id="get_run_breakdown")
def get_run_breakdown(
    run_id: int, by: Dimension, principal: CanRead, session: SessionDep
) -> dict[str, Any]:
    """Core metrics per symbol, direction, regime, hour, weekday, instance or tag."""
    user = principal.user
    return service.run_breakdown(session, user.id, user.timezone, run_id, by)


@router.get("/runs/{run_id}/calendar", operation_id="get_run_calendar")
def get_run_calendar(
    run_id: int, principal: CanRead, session: SessionDep
) -> dict[str, Any]:
    """Net PnL per day of exit in the user's time zone."""
    user = principal.user
    return service.run_calendar(session, user.id, user.timezone, run_id)


@router.get("/portfolio", operation_id="get_portfolio")
def get_portfolio(
    principal: CanRead,
    session: SessionDep,
    mode: Mode | None = None,
    strategy: str | None = None,
) -> dict[str, Any]:
    """All the caller's runs (filtered by mode and strategy) combined: the headline numbers."""
    user = principal.user
    return service.portfolio(session, user.id, user.timezone, mode=mode, strategy=strategy)


@router.get("/portfolio/breakdowns", operation_id="get_portfolio_breakdown")
def get_portfolio_breakdown(
    by: Dimension,
    principal: CanRead,
    session: SessionDep,
    mode: Mode | None = None,
    strategy: str | None = None,
) -> dict[str, Any]:
    """Core metrics per group across the caller's runs."""
    user = principal.user
    return service.portfolio_breakdown(
        session, user.id, user.timezone, by, mode=mode, strategy=strategy
    )


@router.get("/compare", operation_id="compare_runs")
def compare_runs(
    a: int,
    b: int,
    principal: CanRead,
    session: SessionDep,
    tolerance_s: Annotated[float, Query(gt=0, le=86_400)] = 60.0,
) -> dict[str, Any]:
    """Run B against run A: matched trades with slippage and PnL difference, metric deltas."""
    return service.compare(session, principal.user_id, a, b, tolerance_s)


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
