"""Run metrics: one pure function per metric, registered with its name, unit and formula.

Adding a metric is adding one decorated function. Every metric covers closed
trades (docs/metrics.md has the conventions and each formula). A metric that is
undefined for the data returns `Undefined(reason)`: it is served as null with
the reason, never as a made-up number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from backend.analytics.series import Daily, Drawdown, daily, max_drawdown
from backend.analytics.table import (
    ClosedTrade,
    Floats,
    TradeTable,
    exact_sum,
    mean_money,
    money,
    to_units,
)

__all__ = ["METRICS", "ClosedTrade", "RunData", "Undefined", "compute_all", "describe"]

VERSION = 1
PERIODS_PER_YEAR = 252


@dataclass(frozen=True)
class Undefined:
    reason: str


Value = float | int | None | Undefined


class RunData:
    """A run's closed trades (in exit order) and what several metrics share."""

    def __init__(
        self, trades: TradeTable | Sequence[ClosedTrade], initial_capital: float | None = None
    ) -> None:
        self.table = trades if isinstance(trades, TradeTable) else TradeTable.from_trades(trades)
        self.capital_units = to_units(initial_capital) if initial_capital is not None else None

    @property
    def count(self) -> int:
        return len(self.table)

    @cached_property
    def net(self) -> Floats:
        """Net PnL per trade, as floats (for spreads; sums use the exact units)."""
        return self.table.net / 1e8

    @cached_property
    def winning(self) -> npt.NDArray[np.bool_]:
        return self.table.net > 0

    @cached_property
    def losing(self) -> npt.NDArray[np.bool_]:
        return self.table.net < 0

    @cached_property
    def wins(self) -> tuple[int, int]:
        """(count, exact total in units) of winners."""
        return int(self.winning.sum()), exact_sum(self.table.net[self.winning])

    @cached_property
    def losses(self) -> tuple[int, int]:
        return int(self.losing.sum()), exact_sum(self.table.net[self.losing])

    @cached_property
    def net_units(self) -> int:
        return exact_sum(self.table.net)

    @cached_property
    def gross_units(self) -> int:
        return exact_sum(self.table.gross)

    @cached_property
    def hold(self) -> Floats:
        return self.table.hold_seconds

    @cached_property
    def daily(self) -> Daily:
        return daily(self.table.exit_ts, self.table.net)

    @cached_property
    def returns(self) -> npt.NDArray[np.float64] | Undefined:
        if self.capital_units is None:
            return Undefined("the run has no initial_capital")
        if not self.count:
            return Undefined("no closed trades")
        return self.daily.returns(self.capital_units)

    @cached_property
    def drawdown(self) -> Drawdown:
        return max_drawdown(self.daily, self.capital_units)


@dataclass(frozen=True)
class MetricDef:
    name: str
    unit: str  # currency, fraction, ratio, count, seconds, days, R
    formula: str
    compute: Callable[[RunData], Value]


METRICS: dict[str, MetricDef] = {}


def metric(
    name: str, unit: str, formula: str
) -> Callable[[Callable[[RunData], Value]], Callable[[RunData], Value]]:
    """Register a metric function under `name`."""

    def register(fn: Callable[[RunData], Value]) -> Callable[[RunData], Value]:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is registered twice")
        METRICS[name] = MetricDef(name, unit, formula, fn)
        return fn

    return register


def compute_all(data: RunData) -> tuple[dict[str, float | int | None], dict[str, str]]:
    """Every registered metric: values (null when undefined) and the reasons for nulls."""
    values: dict[str, float | int | None] = {}
    reasons: dict[str, str] = {}
    for name, definition in METRICS.items():
        value = definition.compute(data)
        if isinstance(value, Undefined):
            values[name], reasons[name] = None, value.reason
        elif isinstance(value, float) and not math.isfinite(value):
            values[name], reasons[name] = None, "not a finite number"
        else:
            values[name] = value
    return values, reasons


def _need_trades(data: RunData) -> Undefined | None:
    return Undefined("no closed trades") if data.count == 0 else None


# -- PnL ----------------------------------------------------------------------------


@metric("net_pnl", "currency", "sum of closed trades' net PnL")
def net_pnl(data: RunData) -> Value:
    return money(data.net_units)


@metric("gross_pnl", "currency", "sum of closed trades' gross PnL")
def gross_pnl(data: RunData) -> Value:
    return money(data.gross_units)


@metric("commission", "currency", "sum of closed trades' commissions")
def commission(data: RunData) -> Value:
    return money(exact_sum(data.table.commission))


@metric("commission_share", "fraction", "commission / gross_pnl (gross PnL > 0)")
def commission_share(data: RunData) -> Value:
    if data.gross_units <= 0:
        return Undefined("gross PnL is not positive")
    return float(Decimal(exact_sum(data.table.commission)) / data.gross_units)


@metric("trade_count", "count", "number of closed trades")
def trade_count(data: RunData) -> Value:
    return data.count


@metric("win_rate", "fraction", "winners / closed trades; a winner has net PnL > 0")
def win_rate(data: RunData) -> Value:
    return _need_trades(data) or data.wins[0] / data.count


@metric("avg_win", "currency", "mean net PnL of winners")
def avg_win(data: RunData) -> Value:
    count, total = data.wins
    return mean_money(total, count) if count else Undefined("no winning trades")


@metric("avg_loss", "currency", "mean net PnL of losers (negative)")
def avg_loss(data: RunData) -> Value:
    count, total = data.losses
    return mean_money(total, count) if count else Undefined("no losing trades")


@metric("payoff_ratio", "ratio", "avg_win / |avg_loss|")
def payoff_ratio(data: RunData) -> Value:
    win, loss = avg_win(data), avg_loss(data)
    if isinstance(win, Undefined):
        return win
    if isinstance(loss, Undefined):
        return loss
    assert isinstance(win, float)
    assert isinstance(loss, float)
    return win / abs(loss)


@metric("profit_factor", "ratio", "sum of winners' net PnL / |sum of losers' net PnL|")
def profit_factor(data: RunData) -> Value:
    losers, loss = data.losses
    if not losers:
        return Undefined("no losing trades")
    return float(Decimal(data.wins[1]) / abs(loss))


@metric("expectancy", "currency", "mean net PnL per closed trade")
def expectancy(data: RunData) -> Value:
    return _need_trades(data) or mean_money(data.net_units, data.count)


@metric("expectancy_r", "R", "mean R-multiple of the closed trades that have one")
def expectancy_r(data: RunData) -> Value:
    rs = data.table.r_multiple[~np.isnan(data.table.r_multiple)]
    return float(np.mean(rs)) if rs.size else Undefined("no trade has a known initial risk")


@metric("sqn", "ratio", "sqrt(n) x mean(net PnL) / stdev(net PnL, n-1), n >= 2")
def sqn(data: RunData) -> Value:
    if data.count < 2:
        return Undefined("needs at least 2 closed trades")
    spread = float(np.std(data.net, ddof=1))
    if spread == 0:
        return Undefined("every trade has the same net PnL")
    return math.sqrt(data.count) * float(np.mean(data.net)) / spread


@metric("largest_win", "currency", "largest net PnL of a winner")
def largest_win(data: RunData) -> Value:
    if not data.wins[0]:
        return Undefined("no winning trades")
    return money(int(data.table.net.max()))


@metric("largest_loss", "currency", "most negative net PnL of a loser")
def largest_loss(data: RunData) -> Value:
    if not data.losses[0]:
        return Undefined("no losing trades")
    return money(int(data.table.net.min()))


def _longest_streak(hits: npt.NDArray[np.bool_]) -> int:
    """The longest run of True (in exit order; a breakeven trade ends both kinds)."""
    if not hits.any():
        return 0
    edges = np.diff(np.concatenate(([0], hits.view(np.int8), [0])))
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


@metric("max_win_streak", "count", "most consecutive winners, in exit order")
def max_win_streak(data: RunData) -> Value:
    return _longest_streak(data.winning)


@metric("max_loss_streak", "count", "most consecutive losers, in exit order")
def max_loss_streak(data: RunData) -> Value:
    return _longest_streak(data.losing)


# -- time ---------------------------------------------------------------------------


@metric("avg_hold_seconds", "seconds", "mean of exit_ts - entry_ts")
def avg_hold_seconds(data: RunData) -> Value:
    return _need_trades(data) or float(np.mean(data.hold))


@metric("avg_hold_seconds_win", "seconds", "mean hold time of winners")
def avg_hold_seconds_win(data: RunData) -> Value:
    mask = data.winning
    return float(np.mean(data.hold[mask])) if mask.any() else Undefined("no winning trades")


@metric("avg_hold_seconds_loss", "seconds", "mean hold time of losers")
def avg_hold_seconds_loss(data: RunData) -> Value:
    mask = data.losing
    return float(np.mean(data.hold[mask])) if mask.any() else Undefined("no losing trades")


@metric("exposure", "fraction", "time with a trade open / (last exit - first entry)")
def exposure(data: RunData) -> Value:
    if data.count == 0:
        return Undefined("no closed trades")
    order = np.lexsort((data.table.exit_ts, data.table.entry_ts))
    starts, ends = data.table.entry_ts[order], data.table.exit_ts[order]
    total = int(ends.max()) - int(starts[0])
    if total <= 0:
        return Undefined("the trades span no time")
    reach = np.maximum.accumulate(ends)  # the latest exit so far: where the open span ends
    gaps = np.flatnonzero(starts[1:] > reach[:-1])  # a trade opens after every earlier one closed
    first = np.concatenate(([0], gaps + 1))
    last = np.concatenate((gaps, [starts.size - 1]))
    return int((reach[last] - starts[first]).sum()) / total


# -- drawdown and risk-adjusted returns (daily returns, empyrical's definitions) ------


@metric(
    "max_drawdown", "fraction", "min over days of equity / running peak - 1 (capital is a peak)"
)
def max_drawdown_fraction(data: RunData) -> Value:
    if data.capital_units is None:
        return Undefined("the run has no initial_capital")
    return data.drawdown.fraction if data.count else Undefined("no closed trades")


@metric(
    "max_drawdown_amount",
    "currency",
    "the max drawdown in currency (without capital: of cumulative PnL)",
)
def max_drawdown_amount(data: RunData) -> Value:
    return _need_trades(data) or money(data.drawdown.amount)


@metric(
    "max_drawdown_duration_days",
    "days",
    "business days from the drawdown's peak to recovery (or the end)",
)
def max_drawdown_duration(data: RunData) -> Value:
    return _need_trades(data) or data.drawdown.duration_days


@metric("recovery_factor", "ratio", "net_pnl / |max_drawdown_amount|")
def recovery_factor(data: RunData) -> Value:
    if data.count == 0:
        return Undefined("no closed trades")
    if data.drawdown.amount == 0:
        return Undefined("no drawdown")
    return float(Decimal(data.net_units) / abs(data.drawdown.amount))


@metric("sharpe", "ratio", "mean(daily returns) / stdev(daily returns, n-1) x sqrt(252)")
def sharpe(data: RunData) -> Value:
    returns = data.returns
    if isinstance(returns, Undefined):
        return returns
    if len(returns) < 2:
        return Undefined("needs at least 2 daily returns")
    spread = float(np.std(returns, ddof=1))
    if spread == 0:
        return Undefined("daily returns do not vary")
    return float(np.mean(returns)) / spread * math.sqrt(PERIODS_PER_YEAR)


@metric(
    "sortino",
    "ratio",
    "mean(daily returns) x 252 / (sqrt(mean(min(r, 0)^2)) x sqrt(252))",
)
def sortino(data: RunData) -> Value:
    returns = data.returns
    if isinstance(returns, Undefined):
        return returns
    if len(returns) < 2:
        return Undefined("needs at least 2 daily returns")
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2))) * math.sqrt(
        PERIODS_PER_YEAR
    )
    if downside == 0:
        return Undefined("no day had a negative return")
    return float(np.mean(returns)) * PERIODS_PER_YEAR / downside


_MAX_EXPONENT = 700.0  # math.exp overflows past ~709.78


@metric("annual_return", "fraction", "(final equity / capital)^(252 / days) - 1")
def annual_return(data: RunData) -> Value:
    returns = data.returns
    if isinstance(returns, Undefined):
        return returns
    if bool(np.any(returns <= -1.0)):
        return Undefined("equity fell to zero or below")
    # In logs: a run that grew a millionfold in days would overflow growth ** (252 / days).
    exponent = float(np.sum(np.log1p(returns))) * PERIODS_PER_YEAR / len(returns)
    if exponent > _MAX_EXPONENT:
        return Undefined("the annualised growth is beyond what a number can hold")
    return math.expm1(exponent)


@metric("calmar", "ratio", "annual_return / |max_drawdown|")
def calmar(data: RunData) -> Value:
    annual = annual_return(data)
    if isinstance(annual, Undefined):
        return annual
    if data.drawdown.fraction == 0:
        return Undefined("no drawdown")
    assert isinstance(annual, float)
    return annual / abs(data.drawdown.fraction)


# -- excursions ---------------------------------------------------------------------


@metric("mfe_efficiency", "fraction", "mean of captured move / MFE (trades with MFE > 0)")
def mfe_efficiency(data: RunData) -> Value:
    table = data.table
    known = ~np.isnan(table.captured) & ~np.isnan(table.mfe) & (table.mfe != 0)
    if not known.any():
        return Undefined("no trade has a positive MFE")
    return float(np.mean(table.captured[known] / table.mfe[known]))


@metric("mae_efficiency", "fraction", "mean of 1 - MAE / (MFE + MAE) (trades with MFE + MAE > 0)")
def mae_efficiency(data: RunData) -> Value:
    table = data.table
    span = table.mfe + table.mae  # NaN where either is unknown
    known = ~np.isnan(span) & (span > 0)
    if not known.any():
        return Undefined("no trade has excursions")
    return float(np.mean(1.0 - table.mae[known] / span[known]))


def describe() -> list[dict[str, Any]]:
    """The metric set: name, unit and formula of each metric, for docs and the API."""
    return [{"name": m.name, "unit": m.unit, "formula": m.formula} for m in METRICS.values()]
