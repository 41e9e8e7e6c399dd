"""What the backtests API takes and returns."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BacktestStatus = Literal["queued", "running", "completed", "failed"]


class ParameterRead(BaseModel):
    name: str
    type: str = Field(description="int, float, bool or str")
    default: Any
    description: str
    minimum: float | None
    maximum: float | None
    step: float | None = Field(description="a sensible step for sweeps")
    choices: list[Any] | None


class StrategyRead(BaseModel):
    """A strategy plug-in of the backtester with its parameters."""

    name: str
    description: str
    parameters: list[ParameterRead]


class BacktestSettings(BaseModel):
    """Instrument and fill settings of a backtest (docs/backtester.md)."""

    multiplier: float | None = Field(
        None, gt=0, le=90_000_000,
        description="the stored instrument's when left out (1 for a new symbol); a different "
        "value than the stored one is refused (409): a backtest never changes an instrument",
    )  # fmt: skip
    tick_size: float | None = Field(
        None, gt=0, le=90_000_000, description="the stored instrument's, else 0.01"
    )
    currency: str | None = Field(
        None, min_length=1, max_length=8, description="the stored instrument's, else USD"
    )
    slippage_ticks: float = Field(0.0, ge=0)
    commission: float = Field(0.0, ge=0, description="per contract")
    commission_rate: float = Field(0.0, ge=0, description="fraction of notional")
    both_touched: Literal["pessimistic", "optimistic", "nearest"] = "pessimistic"
    limit_fill: Literal["touch", "through"] = "touch"
    participation: float | None = Field(None, gt=0, le=1)
    initial_capital: float | None = Field(100_000.0, gt=0)
    start: str | None = Field(None, description="stored bars from (ISO-8601 or epoch ns)")
    end: str | None = Field(None, description="stored bars before (ISO-8601 or epoch ns)")


class BacktestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: BacktestStatus
    strategy: str
    interval: str
    params: dict[str, Any]
    symbol: str
    data_source: Literal["upload", "stored", "synthetic"] = Field(
        description="an uploaded CSV, the user's stored 1-second bars, or built-in demo bars"
    )
    settings: dict[str, Any]
    run_key: str
    run_id: int | None
    progress: float = Field(description="0..1")
    report: dict[str, Any] | None = Field(description="rows read, kept, dropped and why")
    result: dict[str, Any] | None = Field(description="orders, fills, trades, metrics")
    error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None


class DemoRead(BaseModel):
    """The demo data: one backtest on built-in synthetic bars, pushed as a `backtest` run."""

    backtest: BacktestRead | None = Field(description="null when no demo data is loaded")
    symbol: str
    source: str = Field(description="the run's source, 'demo': what DELETE /api/demo removes")
