"""Responses of a trade's orders panel, its explanation and a run's order analytics."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TimelineKind = Literal[
    "placed", "modified", "status", "partially_filled", "filled", "cancelled", "rejected",
    "expired", "fill",
]  # fmt: skip


class SlippageRead(BaseModel):
    """Slippage of an order's fills against one reference price; positive = worse."""

    reference: float = Field(description="the reference price (qty-weighted when it changed)")
    price: float = Field(description="per unit filled: fill - reference, negated for a sell")
    amount: float = Field(description="in money: price slippage x qty x multiplier")
    ticks: float | None = Field(description="price slippage / tick size; null without one")
    qty: float = Field(description="the filled quantity it covers")


class TimelineStepRead(BaseModel):
    ts: str
    kind: TimelineKind
    status: str | None
    qty: float | None
    limit_price: float | None
    stop_price: float | None
    fill_price: float | None
    fill_id: str | None
    changes: list[Literal["qty", "limit_price", "stop_price"]] = Field(
        description="what a modification changed"
    )


class OrderAnalysisRead(BaseModel):
    """One order: how it was worked and what its fills cost (docs/trades.md, "Orders")."""

    order_id: str
    symbol: str
    side: Literal["buy", "sell"]
    order_type: str
    parent_id: str | None
    role: Literal["entry", "exit", "stop", "linked"] = Field(
        description="entry/exit: its fills grew/shrank the trade; stop: a protective stop "
        "without a fill in it; linked: a child order otherwise"
    )
    status: str
    placed_ts: str
    finished_ts: str | None
    qty: float
    filled_qty: float
    avg_fill_price: float | None
    first_fill_ts: str | None
    latency_seconds: float | None = Field(description="first fill - placement")
    full_latency_seconds: float | None = Field(description="last fill - placement")
    modifications: int
    cancelled: bool
    slippage_vs_order: SlippageRead | None = Field(
        description="against the limit (limit orders) or stop price (stop, stop-limit) "
        "working at each fill; null for market orders and unfilled ones"
    )
    slippage_vs_close: SlippageRead | None = Field(
        description="against the close of the last bar closed when the order was placed"
    )
    close_ref_ts: str | None = Field(description="open time of that bar")
    timeline: list[TimelineStepRead]


class StopMoveRead(BaseModel):
    ts: str
    order_id: str
    from_price: float
    to_price: float
    tighter: bool = Field(description="towards the favourable side (up for a long)")


class StopMovesRead(BaseModel):
    first_stop: float | None
    first_order_id: str | None
    last_stop: float | None
    moves: list[StopMoveRead]
    verdict: Literal["no_stop", "not_moved", "open", "helped", "hurt", "no_effect", "unknown"]
    effect: float | None = Field(
        description="gross P&L - gross P&L had the first stop stayed; positive: moving helped"
    )
    counterfactual_gross_pnl: float | None
    first_stop_reached: bool | None = Field(description="MAE reached the first stop")
    method: str = Field(description="how the effect is computed, in words")


class TradeOrdersRead(BaseModel):
    """A trade's orders (those of its fills, their children and its protective stops)."""

    trade_id: int
    multiplier: float
    tick_size: float | None
    orders: list[OrderAnalysisRead]
    stop: StopMovesRead


class ExplainPart(BaseModel):
    trade_id: int
    role: Literal["entry", "exit"]
    qty: float
    commission: float
    commission_units: int = Field(description="the commission in 1e-8 units, exactly")


ExplainAction = Literal[
    "open", "opened_by_reversal", "scale_in", "partial_exit", "close", "reverse"
]


class ExplainStep(BaseModel):
    seq: int = Field(description="the fill's arrival sequence (orders fills of equal ts)")
    fill_id: str
    order_id: str | None
    ts: str
    side: Literal["buy", "sell"]
    qty: float
    price: float
    commission: float
    commission_units: int
    position_before: float = Field(description="signed: long > 0, short < 0")
    position_after: float
    action: ExplainAction
    part: ExplainPart = Field(description="the part of the fill in this trade")
    other: ExplainPart | None = Field(
        description="the part in the trade before (opened_by_reversal) or after (reverse)"
    )
    commission_split: Literal["whole", "pro_rata"] = Field(
        description="pro_rata: this part = commission x part qty / fill qty, half-even to "
        "1e-8; the other part gets the remainder (the opening part of the next trade)"
    )


class ExplainResult(BaseModel):
    """The trade as the replay built it, beside what is stored."""

    qty: float
    entry_price: float
    exit_price: float | None
    gross_pnl: float
    commission: float
    net_pnl: float
    exit_ts: str | None


class ExplainExcursions(BaseModel):
    timeframe: str
    bar_count: int = Field(description="bars wholly inside the trade's life")
    first_bar_ts: str | None
    last_bar_ts: str | None
    high_bar_ts: str | None
    high: float | None
    low_bar_ts: str | None
    low: float | None
    mfe: float
    mae: float
    mfe_from: Literal["bar", "entry", "exit"]
    mae_from: Literal["bar", "entry", "exit"]


class ExplainInitialStop(BaseModel):
    source: Literal["stop_order", "default_risk", "none"]
    order_id: str | None
    placed_ts: str | None
    stop_price: float | None
    linked_by: Literal["parent_id", "working_at_entry"] | None
    default_risk: float | None = Field(description="the instrument's default risk distance")
    initial_risk: float | None
    r_multiple: float | None


class TradeExplanation(BaseModel):
    """Why these fills are this trade (docs/trades.md, "Why is this a trade?")."""

    trade_id: int
    run_id: int
    account: str
    symbol: str
    direction: Literal["long", "short"]
    multiplier: float
    steps: list[ExplainStep]
    truncated: bool = Field(description="more fills than an explanation shows")
    result: ExplainResult | None
    consistent: bool = Field(description="the replay gives the stored trade")
    consistency: str = Field(description="what differs when not consistent")
    excursions: ExplainExcursions | None = Field(description="null without stored bars")
    initial_stop: ExplainInitialStop


class OrderMetricsRead(BaseModel):
    """Order metrics over a set of orders (definitions: GET /api/metrics/definitions)."""

    order_count: int
    filled_order_count: int
    cancel_rate: float | None
    modify_rate: float | None
    modifications_per_order: float | None
    fill_latency_mean: float | None
    fill_latency_median: float | None
    slippage_order_amount: float | None
    slippage_order_ticks: float | None
    slippage_close_amount: float | None
    slippage_close_ticks: float | None


class OrderGroupRead(BaseModel):
    key: str
    metrics: OrderMetricsRead


class StopMoveSummaryRead(BaseModel):
    stop_moved_trades: int = Field(description="closed trades whose stop was moved")
    stop_move_judged_trades: int = Field(description="of those, with a known effect")
    stop_move_effect: float | None = Field(description="sum of the known effects")
    helped: int
    hurt: int
    no_effect: int
    unknown: int


class RunOrderAnalytics(BaseModel):
    run_id: int
    by: Literal["order_type", "side", "symbol", "hour"]
    timezone: str
    metrics: OrderMetricsRead
    stops: StopMoveSummaryRead
    groups: list[OrderGroupRead]
