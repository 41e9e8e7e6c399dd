"""The ingest wire format (docs/ingest.md), validated in one pass into plain dicts.

Events are TypedDicts, not models: validating a 1,000-event batch straight from
the request bytes into dicts costs a third of what models would, and the writer
only needs tuples. Times arrive already converted to UTC epoch nanoseconds and
timeframes to seconds.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    TypeAdapter,
    with_config,
)
from typing_extensions import TypeAliasType, TypedDict

from backend.ingest.domain import (
    MAX_AMOUNT,
    MAX_CAPITAL,
    MIN_AMOUNT,
    check_currency,
    check_timeframe,
)
from backend.ingest.timestamps import parse_ts
from backend.market.timeframes import parse_timeframe

MAX_EVENTS = 10_000
MAX_BODY_BYTES = 16 * 1024 * 1024

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Symbol = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
OptionalText = Annotated[str, StringConstraints(max_length=1000)]
Ts = Annotated[int, BeforeValidator(parse_ts)]
Timeframe = Annotated[int, BeforeValidator(lambda value: check_timeframe(parse_timeframe(value)))]
# Amounts as backend/ingest/domain.py bounds them, checked natively (no Python call per field).
Positive = Annotated[float, Field(ge=MIN_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False, strict=True)]
NonNegative = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False, strict=True)]
Volume = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit", "stop", "stop_limit"]
OrderStatus = Literal[
    "new", "working", "partially_filled", "filled", "cancelled", "rejected", "expired"
]
EVENT_TYPES = ("instrument", "order", "execution", "bar", "run_end", "cash")
CASH_KINDS = ("deposit", "withdrawal", "fee", "payout")
AccountName = Annotated[str, StringConstraints(max_length=100)]
# ISO 4217: three capital letters (what FX pairs such as EURUSD are spelled from)
Currency = Annotated[str, AfterValidator(lambda value: check_currency(value))]
# A cash flow is money like a run's capital: up to MAX_CAPITAL
CashAmount = Annotated[
    float, Field(ge=MIN_AMOUNT, le=MAX_CAPITAL, allow_inf_nan=False, strict=True)
]


class RunRef(BaseModel):
    """The run a batch belongs to; the first batch naming `key` creates it."""

    model_config = ConfigDict(extra="ignore")

    key: Name
    strategy: Name
    instance: Name | None = None
    mode: Literal["live", "paper", "backtest"]
    params: dict[str, Any] = Field(default_factory=dict)
    initial_capital: (
        Annotated[float, Field(ge=MIN_AMOUNT, le=MAX_CAPITAL, allow_inf_nan=False)] | None
    ) = None


@with_config(ConfigDict(extra="ignore"))
class InstrumentEvent(TypedDict):
    type: Literal["instrument"]
    symbol: Symbol
    multiplier: NotRequired[Positive]
    tick_size: NotRequired[Positive | None]
    currency: NotRequired[Annotated[str, StringConstraints(max_length=16)] | None]
    asset_class: NotRequired[Annotated[str, StringConstraints(max_length=32)] | None]


@with_config(ConfigDict(extra="ignore"))
class OrderEvent(TypedDict):
    type: Literal["order"]
    id: Name
    order_id: Name
    ts: Ts
    symbol: Symbol
    side: Side
    order_type: OrderType
    qty: Positive
    status: OrderStatus
    limit_price: NotRequired[Positive | None]
    stop_price: NotRequired[Positive | None]
    tif: NotRequired[Annotated[str, StringConstraints(max_length=16)] | None]
    parent_id: NotRequired[Name | None]
    filled_qty: NotRequired[NonNegative | None]
    avg_fill_price: NotRequired[Positive | None]
    reason: NotRequired[OptionalText | None]


@with_config(ConfigDict(extra="ignore"))
class ExecutionEvent(TypedDict):
    """A new fill, or (`op: amend`) the corrected version of one already sent."""

    type: Literal["execution"]
    id: Name
    ts: Ts
    symbol: Symbol
    side: Side
    qty: Positive
    price: Positive
    order_id: NotRequired[Name | None]
    commission: NotRequired[NonNegative]
    account: NotRequired[AccountName | None]
    liquidity: NotRequired[Annotated[str, StringConstraints(max_length=16)] | None]
    op: NotRequired[Literal["new", "amend"]]


@with_config(ConfigDict(extra="ignore"))
class ExecutionRemoval(TypedDict):
    """A bust: only the id is needed."""

    type: Literal["execution"]
    op: Literal["remove"]
    id: Name


def _check_bar(bar: BarEvent) -> BarEvent:
    high, low, open_, close = bar["high"], bar["low"], bar["open"], bar["close"]
    if high < max(open_, close, low):
        raise ValueError(
            f"high must be >= max(open, close, low), got high={high} open={open_} "
            f"close={close} low={low}"
        )
    if low > min(open_, close):
        raise ValueError(
            f"low must be <= min(open, close), got low={low} open={open_} close={close}"
        )
    values = bar.get("values")
    if values:
        bad = [name for name, number in values.items() if not _finite_number(number)]
        if bad:
            raise ValueError(
                f"values must be finite numbers or 64-bit integers (or null), not for {bad[:5]}"
            )
    return bar


def _finite_number(value: object) -> bool:
    """A finite float, a 64-bit integer (what JSON columns and the writer's pipe carry), or None."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


@with_config(ConfigDict(extra="ignore"))
class BarEvent(TypedDict):
    type: Literal["bar"]
    symbol: Symbol
    timeframe: Timeframe
    ts: Ts
    open: Positive
    high: Positive
    low: Positive
    close: Positive
    volume: NotRequired[Volume | None]
    bid_volume: NotRequired[Volume | None]
    ask_volume: NotRequired[Volume | None]
    series: NotRequired[Literal["market", "run"]]
    values: NotRequired[dict[Annotated[str, StringConstraints(max_length=100)], Any] | None]


@with_config(ConfigDict(extra="ignore"))
class RunEndEvent(TypedDict):
    type: Literal["run_end"]
    ts: Ts
    status: NotRequired[Literal["completed", "failed"]]


@with_config(ConfigDict(extra="ignore"))
class CashEvent(TypedDict):
    """Money in or out of an account outside trades (docs/ingest.md, "Cash flows");
    `amount` is positive and `kind` says which way it goes. `op: amend` corrects one."""

    type: Literal["cash"]
    id: Name
    ts: Ts
    kind: Literal["deposit", "withdrawal", "fee", "payout"]
    amount: CashAmount
    currency: NotRequired[Currency | None]
    account: NotRequired[AccountName | None]
    note: NotRequired[OptionalText | None]
    op: NotRequired[Literal["new", "amend"]]


@with_config(ConfigDict(extra="ignore"))
class CashRemoval(TypedDict):
    """A cash flow taken back: only the id is needed."""

    type: Literal["cash"]
    op: Literal["remove"]
    id: Name


# A fill or a bust, tried in that order: a bust is the rare one. An alias, so that the
# discriminated union below keeps it as one choice instead of flattening it into two.
Execution = TypeAliasType(
    "Execution",
    Annotated[ExecutionEvent | ExecutionRemoval, Field(union_mode="left_to_right")],
)
EXECUTION_MEMBERS = {"fill": "ExecutionEvent", "remove": "ExecutionRemoval"}  # names in `loc`
Cash = TypeAliasType("Cash", Annotated[CashEvent | CashRemoval, Field(union_mode="left_to_right")])
CASH_MEMBERS = {"fill": "CashEvent", "remove": "CashRemoval"}

# Tagged by `type` itself, which pydantic-core reads straight from the JSON; a callable
# discriminator would make it build every event as a Python dict first (2x the cost).
Event = Annotated[
    Annotated[InstrumentEvent, Tag("instrument")]
    | Annotated[OrderEvent, Tag("order")]
    | Annotated[Execution, Tag("execution")]
    | Annotated[BarEvent, AfterValidator(_check_bar), Tag("bar")]
    | Annotated[RunEndEvent, Tag("run_end")]
    | Annotated[Cash, Tag("cash")],
    Discriminator("type"),
]


@with_config(ConfigDict(extra="ignore"))
class Batch(TypedDict):
    """A whole request body; validated in one pass from the bytes on the fast path."""

    source: Name
    run: RunRef
    events: Annotated[list[Event], Field(max_length=MAX_EVENTS)]


BatchAdapter: TypeAdapter[Batch] = TypeAdapter(Batch)
EventListAdapter: TypeAdapter[list[Event]] = TypeAdapter(list[Event])
