from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query

from backend.api.deps import ContextDep, SessionDep, WriteSessionDep
from backend.api.params import query_time
from backend.auth.deps import CanRead, CanWriteJournal
from backend.runs import service as runs
from backend.runs.pagination import Cursor, Limit, Page
from backend.trades import service
from backend.trades.repository import TradeFilter
from backend.trades.schemas import TradeDetail, TradeRead, TradeUpdate

router = APIRouter(prefix="/api", tags=["trades"])

Direction = Annotated[Literal["long", "short"] | None, Query()]
Outcome = Annotated[Literal["win", "loss", "breakeven"] | None, Query()]
Status = Annotated[Literal["open", "closed"] | None, Query()]
Trend = Annotated[Literal["up", "down", "range"] | None, Query()]
Volatility = Annotated[Literal["low", "normal", "high"] | None, Query()]
Time = Annotated[
    str | None, Query(description="entry time bound: ISO-8601 with offset, or epoch ns")
]
Sort = Annotated[
    str,
    Query(description="entry_ts, exit_ts, net_pnl, r_multiple, mfe, mae or qty; - for descending"),
]


@dataclass
class TradeQuery:
    """The filters and paging both trade lists share (query parameters)."""

    symbol: str | None = None
    direction: Direction = None
    outcome: Outcome = None
    status: Status = None
    trend: Trend = None
    volatility: Volatility = None
    start: Time = None
    end: Time = None
    cursor: Cursor = None
    limit: Limit = 200

    def where(
        self, user_id: int, *, run_id: int | None = None, mode: str | None = None
    ) -> TradeFilter:
        return TradeFilter(
            user_id=user_id, run_id=run_id, mode=mode, symbol=self.symbol,
            direction=self.direction, outcome=self.outcome, status=self.status,
            trend=self.trend, volatility=self.volatility,
            start=query_time("start", self.start), end=query_time("end", self.end),
        )  # fmt: skip


TradeQueryDep = Annotated[TradeQuery, Depends()]


@router.get("/runs/{run_id}/trades", operation_id="list_run_trades")
def list_run_trades(
    run_id: int,
    query: TradeQueryDep,
    principal: CanRead,
    session: SessionDep,
    sort: Sort = "entry_ts",
) -> Page[TradeRead]:
    """A run's trades, filtered, sorted and paged."""
    runs.get_run(session, principal.user_id, run_id)
    where = query.where(principal.user_id, run_id=run_id)
    return service.list_trades(session, where, sort=sort, cursor=query.cursor, limit=query.limit)


@router.get("/trades", operation_id="list_trades")
def list_trades(
    query: TradeQueryDep,
    principal: CanRead,
    session: SessionDep,
    mode: Literal["live", "paper", "backtest"] | None = None,
    sort: Sort = "-entry_ts",
) -> Page[TradeRead]:
    """The caller's trades across all runs (newest first by default)."""
    where = query.where(principal.user_id, mode=mode)
    return service.list_trades(session, where, sort=sort, cursor=query.cursor, limit=query.limit)


@router.get("/trades/{trade_id}", operation_id="get_trade")
def get_trade(trade_id: int, principal: CanRead, session: SessionDep) -> TradeDetail:
    """One trade with its fills, related orders and the bars around it for a chart."""
    return service.get_trade(session, principal.user_id, trade_id)


@router.patch("/trades/{trade_id}", operation_id="update_trade")
def update_trade(
    trade_id: int,
    data: TradeUpdate,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    context: ContextDep,
    tasks: BackgroundTasks,
) -> TradeRead:
    """Write notes, tags and setup on a trade; they survive rebuilds."""
    trade = service.update_trade(session, principal.user_id, trade_id, data)
    # After the commit (background tasks run once the response is out): `trade_updated`.
    tasks.add_task(context.broker.publish, principal.user_id, trade_updated(trade))
    return trade


def trade_updated(trade: TradeRead) -> dict[str, Any]:
    """What live clients hear when a trade's journal changes."""
    return {"type": "trade_updated", "trade_id": trade.id, "run_id": trade.run_id}
