from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from backend.ingest.progress import DerivationState


class NamedRef(BaseModel):
    id: int
    name: str


class RunRead(BaseModel):
    id: int
    source: str
    key: str
    mode: str
    status: str
    strategy: NamedRef
    instance: NamedRef | None
    params: dict[str, Any]
    initial_capital: float | None
    started_ts: str | None
    ended_ts: str | None
    created_at: dt.datetime
    ended_at: dt.datetime | None
    execution_count: int
    order_count: int
    metrics: dict[str, Any] | None = None  # stored when the run ended (GET .../metrics is live)
    derivation: DerivationState | None = None  # GET /api/runs/{id} only: are its trades current?


class ExecutionRead(BaseModel):
    """A fill as the exporter sent it (after any amend). `seq` is the arrival order."""

    seq: int
    id: str
    source: str
    order_id: str | None
    ts: str
    ts_ns: int
    symbol: str
    side: str
    qty: float
    price: float
    commission: float
    account: str
    liquidity: str | None
    amended_at: dt.datetime | None
    removed: bool


class OrderRead(BaseModel):
    """An order's current state: its latest event."""

    order_id: str
    source: str
    symbol: str
    side: str
    order_type: str
    qty: float
    status: str
    limit_price: float | None
    stop_price: float | None
    tif: str | None
    parent_id: str | None
    filled_qty: float | None
    avg_fill_price: float | None
    reason: str | None
    created_ts: str
    ts: str
    ts_ns: int


class OrderEventRead(BaseModel):
    id: str
    ts: str
    ts_ns: int
    status: str
    qty: float
    filled_qty: float | None
    avg_fill_price: float | None
    limit_price: float | None
    stop_price: float | None
    reason: str | None


class OrderDetail(OrderRead):
    history: list[OrderEventRead]


class InstrumentRead(BaseModel):
    symbol: str
    multiplier: float = Field(description="currency per point of price per unit of qty")
    tick_size: float | None
    currency: str | None
    asset_class: str | None
    default_risk: float | None
    updated_at: dt.datetime
    run_count: int = Field(0, description="runs with trades in this symbol")
    trade_count: int = Field(0, description="trades priced with this instrument")


class InstrumentUpdate(BaseModel):
    """Describe an instrument by hand; a change re-derives every trade of the symbol."""

    multiplier: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    tick_size: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    currency: str | None = Field(default=None, max_length=16)
    asset_class: str | None = Field(default=None, max_length=32)
    default_risk: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="price distance standing in for entry-to-stop when a trade has no stop",
    )


class InstrumentUsage(BaseModel):
    runs: int
    trades: int


class FieldChange(BaseModel):
    from_: Any = Field(alias="from")
    to: Any


class InstrumentConflict(BaseModel):
    """409 of PATCH /api/instruments/{symbol}: the change would re-price existing trades."""

    error: str = Field(description="conflict")
    detail: str
    affected: InstrumentUsage
    changes: dict[str, FieldChange]


class RejectedEventRead(BaseModel):
    id: int
    run_id: int | None
    source: str
    batch_index: int
    event_id: str | None
    event_type: str | None
    raw: str
    error: str
    received_at: dt.datetime
