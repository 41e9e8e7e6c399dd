from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from backend.api.deps import ContextDep, SessionDep, WriteSessionDep
from backend.attachments.service import sweep as sweep_attachments
from backend.auth.deps import CanLaunchBacktests, CanRead
from backend.backtests import service
from backend.backtests.schemas import BacktestRead, DemoRead, StrategyRead

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


def _demo_read(backtest: object | None) -> DemoRead:
    return DemoRead(
        backtest=None if backtest is None else BacktestRead.model_validate(backtest),
        symbol=service.DEMO_SYMBOL,
        source=service.DEMO_SOURCE,
    )


@router.get("/demo", operation_id="get_demo")
def get_demo(principal: CanRead, context: ContextDep, session: SessionDep) -> DemoRead:
    """Whether demo data is loaded: its backtest (status, run), or null."""
    return _demo_read(service.demo(session, principal.user_id, context))


@router.post(
    "/demo", operation_id="load_demo", status_code=202,
    responses={200: {"model": DemoRead, "description": "already loaded (or loading)"}},
)
def load_demo(
    principal: CanLaunchBacktests, context: ContextDep, session: SessionDep, response: Response
) -> DemoRead:
    """Load demo data: a backtest of `ma_cross` on built-in synthetic bars of `DEMO`, pushed
    as a `backtest` run of source `demo`. Idempotent: 200 with the loaded one."""
    backtest, started = service.load_demo(
        context, session, principal.user, context.settings.internal_url
    )
    if not started:
        response.status_code = 200
    return _demo_read(backtest)


@router.delete("/demo", operation_id="remove_demo")
def remove_demo(
    principal: CanLaunchBacktests, session: WriteSessionDep, context: ContextDep
) -> DemoRead:
    """Remove the demo run, its trades, bars, instrument and backtest (409 while running)."""
    service.remove_demo(session, principal.user_id)
    session.commit()
    # The demo's trades' attachments went with its run (CASCADE): their files go now.
    sweep_attachments(context.db, context.settings.data_dir, [principal.user_id])
    return _demo_read(None)
