from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from backend.api.deps import ContextDep, SessionDep
from backend.auth.deps import CanLaunchBacktests, CanRead
from backend.backtests import service
from backend.backtests.schemas import BacktestRead, StrategyRead

router = APIRouter(prefix="/api", tags=["backtests"])


@router.get("/strategies", operation_id="list_strategies")
def list_strategies(_principal: CanRead) -> list[StrategyRead]:
    """The backtester's strategy plug-ins, each with its parameters, defaults and ranges."""
    return service.list_strategies()


@router.post("/backtests", operation_id="create_backtest", status_code=202)
def create_backtest(
    principal: CanLaunchBacktests,
    context: ContextDep,
    session: SessionDep,
    strategy: Annotated[str, Form(description="a name from GET /api/strategies")],
    interval: Annotated[str, Form(description="candle interval: 1m, 5m, 1h, ...")] = "5m",
    params: Annotated[str, Form(description="strategy parameters, a JSON object")] = "{}",
    symbol: Annotated[str, Form(description="instrument; without a file, its 1s bars")] = "SYNTH",
    settings: Annotated[str, Form(description="costs and fill rules, a JSON object")] = "{}",
    file: Annotated[UploadFile | None, File(description="1-second OHLCV CSV")] = None,
) -> BacktestRead:
    """Start a backtest in a worker process; `backtest_progress` messages on /api/stream."""
    data = service.BacktestCreate(
        strategy, interval, params, symbol, settings, file.file if file else None,
        context.settings.internal_url,  # never the request's Host header (SSRF)
    )
    return BacktestRead.model_validate(service.create(context, session, principal.user, data))


@router.get("/backtests", operation_id="list_backtests")
def list_backtests(
    principal: CanRead,
    context: ContextDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[BacktestRead]:
    """The caller's backtests, newest first."""
    rows = service.list_backtests(context, session, principal.user_id, limit)
    return [BacktestRead.model_validate(row) for row in rows]


@router.get("/backtests/{backtest_id}", operation_id="get_backtest")
def get_backtest(
    backtest_id: int, principal: CanRead, context: ContextDep, session: SessionDep
) -> BacktestRead:
    """One backtest: status, progress, load report, result and the run it produced."""
    return BacktestRead.model_validate(
        service.get_backtest(context, session, principal.user_id, backtest_id)
    )
