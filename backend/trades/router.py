from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query
from sqlalchemy.orm import Session

from backend.api.deps import ContextDep, SessionDep, WriteSessionDep
from backend.api.params import query_time
from backend.auth.deps import CanRead, CanWriteJournal
from backend.errors import InvalidPayload
from backend.ingest.timestamps import format_ts
from backend.playbooks.schemas import NextUnreviewed
from backend.runs import service as runs
from backend.runs.pagination import Cursor, Limit, Page
from backend.trades import order_service, service
from backend.trades.order_schemas import RunOrderAnalytics, TradeExplanation, TradeOrdersRead
from backend.trades.repository import TradeFilter
from backend.trades.schemas import (
    TradeDetail,
    TradeListItem,
    TradeRead,
    TradeTotals,
    TradeUpdate,
)

router = APIRouter(prefix="/api", tags=["trades"])

Direction = Annotated[Literal["long", "short"] | None, Query()]
Outcome = Annotated[Literal["win", "loss", "breakeven"] | None, Query()]
Status = Annotated[Literal["open", "closed"] | None, Query()]
Trend = Annotated[Literal["up", "down", "range"] | None, Query()]
Volatility = Annotated[Literal["low", "normal", "high"] | None, Query()]
Time = Annotated[
    str | None, Query(description="entry time bound: ISO-8601 with offset, or epoch ns")
]
RunId = Annotated[int | None, Query(ge=1, description="only this run's trades")]
Tag = Annotated[
    str | None, Query(min_length=1, max_length=50, description="trades carrying this tag")
]
Setup = Annotated[
    str | None, Query(min_length=1, max_length=200, description="trades of this setup")
]
Mode = Annotated[Literal["live", "paper", "backtest"] | None, Query()]
Review = Annotated[Literal["new", "reviewed"] | None, Query(description="review state")]
MistakeId = Annotated[
    int | None, Query(ge=1, description="trades tagged with this mistake (its id)")
]
PlaybookRef = Annotated[
    str | None,
    Query(
        pattern=r"^(none|[1-9][0-9]{0,17})$",
        description="trades of this playbook (its id; by hand or by strategy), or none",
    ),
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
    tag: Tag = None
    setup: Setup = None
    review: Review = None
    mistake: MistakeId = None
    playbook: PlaybookRef = None

    def where(
        self, user_id: int, *, run_id: int | None = None, mode: str | None = None
    ) -> TradeFilter:
        start, end = query_time("start", self.start), query_time("end", self.end)
        if start is not None and end is not None and end <= start:
            raise InvalidPayload(
                f"end: must be after start, got start={format_ts(start)} end={format_ts(end)}"
            )
        return TradeFilter(
            user_id=user_id, run_id=run_id, mode=mode, symbol=self.symbol,
            direction=self.direction, outcome=self.outcome, status=self.status,
            trend=self.trend, volatility=self.volatility, start=start, end=end,
            tag=self.tag, setup=self.setup, review=self.review, mistake=self.mistake,
            playbook=self.playbook if self.playbook in (None, "none") else int(self.playbook),
        )  # fmt: skip


@dataclass
class TradePageQuery(TradeQuery):
    """The filters plus the page asked for."""

    cursor: Cursor = None
    limit: Limit = 200


TradeQueryDep = Annotated[TradePageQuery, Depends()]
TradeFilterDep = Annotated[TradeQuery, Depends()]


@router.get("/runs/{run_id}/trades", operation_id="list_run_trades")
def list_run_trades(
    run_id: int,
    query: TradeQueryDep,
    principal: CanRead,
    session: SessionDep,
    sort: Sort = "entry_ts",
) -> Page[TradeListItem]:
    """A run's trades, filtered, sorted and paged."""
    runs.get_run(session, principal.user_id, run_id)
    where = query.where(principal.user_id, run_id=run_id)
    return service.list_trade_items(
        session, where, sort=sort, cursor=query.cursor, limit=query.limit
    )


@router.get("/runs/{run_id}/trades/totals", operation_id="run_trade_totals")
def run_trade_totals(
    run_id: int, query: TradeFilterDep, principal: CanRead, session: SessionDep
) -> TradeTotals:
    """Totals of every trade of the run the filters match (count, net P&L, win rate, ...)."""
    runs.get_run(session, principal.user_id, run_id)
    return service.trade_totals(session, query.where(principal.user_id, run_id=run_id))


@router.get("/trades", operation_id="list_trades")
def list_trades(
    query: TradeQueryDep,
    principal: CanRead,
    session: SessionDep,
    mode: Mode = None,
    run_id: RunId = None,
    sort: Sort = "-entry_ts",
) -> Page[TradeListItem]:
    """The caller's trades across all runs (newest first by default)."""
    where = _across_runs(session, principal.user_id, query, mode, run_id)
    return service.list_trade_items(
        session, where, sort=sort, cursor=query.cursor, limit=query.limit
    )


@router.get("/trades/totals", operation_id="trade_totals")
def trade_totals(
    query: TradeFilterDep,
    principal: CanRead,
    session: SessionDep,
    mode: Mode = None,
    run_id: RunId = None,
) -> TradeTotals:
    """Totals of every trade the filters match (count, net P&L, win rate, ...), not a page."""
    where = _across_runs(session, principal.user_id, query, mode, run_id)
    return service.trade_totals(session, where)


def _across_runs(
    session: Session, user_id: int, query: TradeQuery, mode: str | None, run_id: int | None
) -> TradeFilter:
    if run_id is not None:
        runs.get_run(session, user_id, run_id)  # 404 for a run that is not the caller's
    return query.where(user_id, run_id=run_id, mode=mode)


@router.get("/trades/next-unreviewed", operation_id="next_unreviewed_trade")
def next_unreviewed_trade(
    query: TradeFilterDep,
    principal: CanRead,
    session: SessionDep,
    after: Annotated[
        int | None, Query(ge=1, description="a trade id; from the first if unset")
    ] = None,
    mode: Mode = None,
    run_id: RunId = None,
) -> NextUnreviewed:
    """The next closed trade (by entry time, then id) after `after` not yet reviewed."""
    where = _across_runs(session, principal.user_id, query, mode, run_id)
    return NextUnreviewed(id=service.next_unreviewed(session, where, after))


@router.get("/trades/{trade_id}", operation_id="get_trade")
def get_trade(trade_id: int, principal: CanRead, session: SessionDep) -> TradeDetail:
    """One trade with its fills, related orders and the bars around it for a chart."""
    return service.get_trade(session, principal.user_id, trade_id)


@router.get("/trades/{trade_id}/orders", operation_id="get_trade_orders")
def get_trade_orders(trade_id: int, principal: CanRead, session: SessionDep) -> TradeOrdersRead:
    """The trade's orders: each one's timeline, slippage and latency, and its stop moves."""
    return order_service.trade_orders(session, principal.user_id, trade_id)


@router.get("/trades/{trade_id}/explain", operation_id="explain_trade")
def explain_trade(trade_id: int, principal: CanRead, session: SessionDep) -> TradeExplanation:
    """Why is this a trade: the position after each fill, splits, MFE/MAE bars, initial stop."""
    return order_service.explain_trade(session, principal.user_id, trade_id)


OrderDimension = Annotated[
    Literal["order_type", "side", "symbol", "hour"],
    Query(description="group orders by type, side, symbol or local hour of placement"),
]


@router.get("/runs/{run_id}/order-analytics", operation_id="get_run_order_analytics")
def get_run_order_analytics(
    run_id: int, principal: CanRead, session: SessionDep, by: OrderDimension = "order_type"
) -> RunOrderAnalytics:
    """Order metrics of a run (slippage, latency, modifications, stop moves) and per group."""
    user = principal.user
    return order_service.run_order_analytics(session, user.id, user.timezone, run_id, by)


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
