from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from backend.playbooks.schemas import ReviewState, TradeJournalRead


class RegimeRead(BaseModel):
    trend: str | None
    volatility: str | None
    method: str | None = None
    version: int | None = None


class TradeRead(BaseModel):
    """A round trip (docs/ingest.md, "What the service derives"); prices and money as numbers."""

    id: int
    run_id: int
    account: str
    symbol: str
    direction: Literal["long", "short"]
    qty: float = Field(description="total quantity entered")
    max_position: float
    entry_ts: str
    exit_ts: str | None
    hold_seconds: float | None
    entry_price: float
    exit_price: float | None
    gross_pnl: float = Field(description="realised so far for an open trade")
    commission: float
    net_pnl: float
    multiplier: float = Field(description="the instrument multiplier this trade was priced with")
    unrealised_pnl: float | None = Field(description="open trades: open qty marked at the last bar")
    mark_price: float | None
    mfe: float | None = Field(description="max favourable excursion, price distance from entry")
    mae: float | None = Field(description="max adverse excursion, price distance from entry")
    mfe_amount: float | None
    mae_amount: float | None
    exit_efficiency: float | None
    initial_risk: float | None
    initial_stop: float | None
    r_multiple: float | None
    regime: RegimeRead
    open: bool
    notes: str | None
    tags: list[str]
    setup: str | None


class TradeListItem(TradeRead):
    """A trade as the lists show it: with its review state, playbook and mistakes."""

    review_state: ReviewState
    playbook_id: int | None = Field(description="by hand, else the run's strategy's playbook")
    mistakes: list[str] = Field(description="the names of its mistake tags, sorted")


class TradeTotals(BaseModel):
    """Totals over every trade the filters match (not only the page shown).

    Money and outcomes count closed trades only; open trades are counted in `open_count`.
    """

    trade_count: int = Field(description="trades matching the filters, open ones included")
    open_count: int
    closed_count: int
    win_count: int = Field(description="closed trades with net P&L > 0")
    loss_count: int = Field(description="closed trades with net P&L < 0")
    breakeven_count: int = Field(description="closed trades with net P&L = 0")
    net_pnl: float = Field(description="sum of the closed trades' net P&L, in account currency")
    gross_pnl: float = Field(description="sum of the closed trades' P&L before commission")
    commission: float = Field(description="sum of the closed trades' commission")
    gross_profit: float = Field(description="sum of the winners' net P&L")
    gross_loss: float = Field(description="sum of the losers' net P&L (zero or negative)")
    win_rate: float | None = Field(description="wins / closed trades, 0-1; null without any")
    average_net_pnl: float | None = Field(description="net P&L / closed trades (expectancy)")
    profit_factor: float | None = Field(
        description="gross profit / -gross loss; null without losers"
    )
    r_count: int = Field(description="closed trades with an R multiple (a known initial risk)")
    average_r: float | None = Field(description="mean R multiple of those trades")


class TradeFillRead(BaseModel):
    seq: int
    id: str
    order_id: str | None
    ts: str
    side: str
    role: Literal["entry", "exit"]
    qty: float = Field(description="the part of the fill in this trade")
    fill_qty: float
    price: float
    commission: float = Field(description="the part of the fill's commission in this trade")


class TradeOrderRead(BaseModel):
    order_id: str
    side: str
    order_type: str
    qty: float
    status: str
    limit_price: float | None
    stop_price: float | None
    parent_id: str | None
    created_ts: str
    ts: str


class ChartBars(BaseModel):
    timeframe: str
    ts: list[int]
    open: list[float]
    high: list[float]
    low: list[float]
    close: list[float]


class TradeDetail(TradeRead):
    fills: list[TradeFillRead]
    orders: list[TradeOrderRead]
    bars: ChartBars | None
    journal: TradeJournalRead


class TradeUpdate(BaseModel):
    """What a trader writes on a trade; it survives rebuilds."""

    notes: str | None = Field(default=None, max_length=10_000)
    tags: list[str] | None = Field(default=None, max_length=32)
    setup: str | None = Field(default=None, max_length=200)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:
            return None
        cleaned = list(dict.fromkeys(tag.strip() for tag in tags if tag.strip()))
        too_long = [tag for tag in cleaned if len(tag) > 50]
        if too_long:
            raise ValueError(f"each tag must be at most 50 characters, got {too_long[0][:60]!r}")
        return cleaned
