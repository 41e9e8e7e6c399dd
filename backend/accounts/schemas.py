"""Accounts, cash flows, equity and FX rates as the API reads and writes them.

Money is counted exactly in 1e-8 units and served as numbers with 8 decimals at most;
every figure is in the `currency` its object names.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from backend.ingest.domain import MAX_CAPITAL, MIN_AMOUNT, check_currency

AccountType = Literal["cash", "margin", "funded", "evaluation"]
CashKind = Literal["deposit", "withdrawal", "fee", "payout"]
Currency = Annotated[
    str, AfterValidator(check_currency), Field(description="ISO 4217 code, e.g. USD")
]
AccountName = Annotated[str, StringConstraints(max_length=100)]
Balance = Annotated[float, Field(ge=0, le=MAX_CAPITAL, allow_inf_nan=False)]
Amount = Annotated[float, Field(ge=MIN_AMOUNT, le=MAX_CAPITAL, allow_inf_nan=False)]


class AccountRead(BaseModel):
    id: int
    name: str = Field(description='the name fills carry in `account`; "" is the default account')
    base_currency: str
    starting_balance: float = Field(description="in base_currency")
    broker: str | None
    type: AccountType
    created_at: dt.datetime
    updated_at: dt.datetime


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AccountName
    base_currency: Currency = "USD"
    starting_balance: Balance = 0
    broker: Annotated[str, StringConstraints(max_length=100)] | None = None
    type: AccountType = "cash"


class AccountUpdate(BaseModel):
    """Fields left out stay as they are; `name` only while no fill or cash flow carries it."""

    model_config = ConfigDict(extra="forbid")

    name: AccountName | None = None
    base_currency: Currency | None = None
    starting_balance: Balance | None = None
    broker: Annotated[str, StringConstraints(max_length=100)] | None = None
    type: AccountType | None = None


class CashFlowRead(BaseModel):
    id: int
    flow_id: str = Field(description="the id it was pushed or entered with")
    source: str = Field(description='the exporter that pushed it, or "manual"')
    account: str
    kind: CashKind
    amount: float = Field(description="positive; `kind` says which way it moves equity")
    currency: str = Field(description="the flow's currency (the account's when none was sent)")
    ts: str = Field(description="ISO-8601 UTC")
    note: str | None
    removed: bool


class CashFlowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: CashKind
    amount: Amount
    ts: str | int = Field(description="ISO-8601 with offset, or epoch ns")
    currency: Currency | None = Field(default=None, description="the account's when unset")
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None,
        description="an id of the caller's choosing, so that a resent entry is not doubled",
    )


class EquityPointRead(BaseModel):
    ts: str = Field(description="ISO-8601 UTC")
    kind: Literal["deposit", "withdrawal", "payout", "fee", "trade", "open"]
    change: float = Field(description="what this entry added to equity (negative: took away)")
    equity: float
    growth: float | None = Field(description="time-weighted growth of 1 since the start")
    drawdown: float | None = Field(description="growth below its running peak, a fraction <= 0")


class MissingRateRead(BaseModel):
    pair: str = Field(description="e.g. EURUSD: base then quote currency")
    day: dt.date


class EquitySummary(BaseModel):
    starting_balance: float
    deposits: float
    withdrawals: float = Field(description="negative: money taken out")
    payouts: float = Field(description="negative: money paid out to the trader")
    fees: float = Field(description="negative: fees outside trades")
    net_cash_flow: float = Field(description="deposits + withdrawals + payouts + fees")
    realised_pnl: float = Field(description="net P&L of the closed trades, converted")
    open_pnl: float = Field(description="open trades marked at their symbol's last bar")
    equity: float
    trade_count: int = Field(description="closed trades counted")
    open_trade_count: int
    unmarked_symbols: list[str] = Field(description="open trades' symbols without a bar")
    time_weighted_return: float | None = Field(
        description="the periods between deposits/withdrawals/payouts chained: "
        "a deposit is not profit"
    )
    max_drawdown: float | None = Field(description="of the time-weighted growth, a fraction <= 0")
    max_drawdown_amount: float = Field(
        description="deepest fall of cumulative P&L (trades, fees, open), <= 0"
    )
    undefined_reason: str | None = Field(description="why the return is null, when it is")


class AccountEquity(BaseModel):
    account_id: int
    currency: str = Field(description="every amount here is in this currency")
    summary: EquitySummary
    curve: list[EquityPointRead]


class FxRateRead(BaseModel):
    id: int
    base: str
    quote: str
    day: dt.date
    rate: float = Field(description="what one `base` is worth in `quote` on `day`")
    updated_at: dt.datetime


class FxRateWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: Currency
    quote: Currency
    day: dt.date
    rate: Annotated[float, Field(ge=MIN_AMOUNT, le=90_000_000, allow_inf_nan=False)]
