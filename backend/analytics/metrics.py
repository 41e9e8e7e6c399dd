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

VERSION = 1
PERIODS_PER_YEAR = 252
NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class ClosedTrade:
    """What metrics need of a closed trade."""

    net_pnl: Decimal
    gross_pnl: Decimal
    commission: Decimal
    entry_ts: int
    exit_ts: int
    r_multiple: float | None = None
    mfe: float | None = None  # price distance
    mae: float | None = None
    captured: float | None = None  # (exit - entry) in the trade's direction, price distance


@dataclass(frozen=True)
class Undefined:
    reason: str


Value = float | int | None | Undefined


class RunData:
    """A run's closed trades (sorted by exit time) and what several metrics share."""

    def __init__(self, trades: Sequence[ClosedTrade], initial_capital: float | None = None) -> None:
        self.trades = sorted(trades, key=lambda t: (t.exit_ts, t.entry_ts))
        self.initial_capital = (
            Decimal(str(initial_capital)) if initial_capital is not None else None
        )
        self.net = np.array([float(t.net_pnl) for t in self.trades], dtype=np.float64)
        self.hold = np.array(
            [(t.exit_ts - t.entry_ts) / NS_PER_SECOND for t in self.trades], dtype=np.float64
        )

    @property
    def count(self) -> int:
        return len(self.trades)

    @cached_property
    def winners(self) -> list[ClosedTrade]:
        return [t for t in self.trades if t.net_pnl > 0]

    @cached_property
    def losers(self) -> list[ClosedTrade]:
        return [t for t in self.trades if t.net_pnl < 0]

    @cached_property
    def net_pnl(self) -> Decimal:
        return sum((t.net_pnl for t in self.trades), Decimal(0))

    @cached_property
    def daily(self) -> Daily:
        return daily([t.exit_ts for t in self.trades], [t.net_pnl for t in self.trades])

    @cached_property
    def returns(self) -> npt.NDArray[np.float64] | Undefined:
        if self.initial_capital is None:
            return Undefined("the run has no initial_capital")
        if not self.trades:
            return Undefined("no closed trades")
        return self.daily.returns(self.initial_capital)

    @cached_property
    def drawdown(self) -> Drawdown:
        return max_drawdown(self.daily, self.initial_capital)


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


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.00000001")))


def _need_trades(data: RunData) -> Undefined | None:
    return Undefined("no closed trades") if data.count == 0 else None


# -- PnL ----------------------------------------------------------------------------


@metric("net_pnl", "currency", "sum of closed trades' net PnL")
def net_pnl(data: RunData) -> Value:
    return _money(data.net_pnl)


@metric("gross_pnl", "currency", "sum of closed trades' gross PnL")
def gross_pnl(data: RunData) -> Value:
    return _money(sum((t.gross_pnl for t in data.trades), Decimal(0)))


@metric("commission", "currency", "sum of closed trades' commissions")
def commission(data: RunData) -> Value:
    return _money(sum((t.commission for t in data.trades), Decimal(0)))


@metric("commission_share", "fraction", "commission / gross_pnl (gross PnL > 0)")
def commission_share(data: RunData) -> Value:
    gross = sum((t.gross_pnl for t in data.trades), Decimal(0))
    if gross <= 0:
        return Undefined("gross PnL is not positive")
    return float(sum((t.commission for t in data.trades), Decimal(0)) / gross)


@metric("trade_count", "count", "number of closed trades")
def trade_count(data: RunData) -> Value:
    return data.count


@metric("win_rate", "fraction", "winners / closed trades; a winner has net PnL > 0")
def win_rate(data: RunData) -> Value:
    return _need_trades(data) or len(data.winners) / data.count


@metric("avg_win", "currency", "mean net PnL of winners")
def avg_win(data: RunData) -> Value:
    if not data.winners:
        return Undefined("no winning trades")
    return _money(sum((t.net_pnl for t in data.winners), Decimal(0)) / len(data.winners))


@metric("avg_loss", "currency", "mean net PnL of losers (negative)")
def avg_loss(data: RunData) -> Value:
    if not data.losers:
        return Undefined("no losing trades")
    return _money(sum((t.net_pnl for t in data.losers), Decimal(0)) / len(data.losers))


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
    if not data.losers:
        return Undefined("no losing trades")
    wins = sum((t.net_pnl for t in data.winners), Decimal(0))
    return float(wins / abs(sum((t.net_pnl for t in data.losers), Decimal(0))))


@metric("expectancy", "currency", "mean net PnL per closed trade")
def expectancy(data: RunData) -> Value:
    return _need_trades(data) or _money(data.net_pnl / data.count)


@metric("expectancy_r", "R", "mean R-multiple of the closed trades that have one")
def expectancy_r(data: RunData) -> Value:
    rs = [t.r_multiple for t in data.trades if t.r_multiple is not None]
    if not rs:
        return Undefined("no trade has a known initial risk")
    return float(np.mean(rs))


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
    return (
        _money(max(t.net_pnl for t in data.winners))
        if data.winners
        else Undefined("no winning trades")
    )


@metric("largest_loss", "currency", "most negative net PnL of a loser")
def largest_loss(data: RunData) -> Value:
    return (
        _money(min(t.net_pnl for t in data.losers))
        if data.losers
        else Undefined("no losing trades")
    )


def _longest_streak(data: RunData, winning: bool) -> int:
    best = current = 0
    for trade in data.trades:  # in exit order; a breakeven trade ends both kinds of streak
        hit = trade.net_pnl > 0 if winning else trade.net_pnl < 0
        current = current + 1 if hit else 0
        best = max(best, current)
    return best


@metric("max_win_streak", "count", "most consecutive winners, in exit order")
def max_win_streak(data: RunData) -> Value:
    return _longest_streak(data, winning=True)


@metric("max_loss_streak", "count", "most consecutive losers, in exit order")
def max_loss_streak(data: RunData) -> Value:
    return _longest_streak(data, winning=False)


# -- time ---------------------------------------------------------------------------


@metric("avg_hold_seconds", "seconds", "mean of exit_ts - entry_ts")
def avg_hold_seconds(data: RunData) -> Value:
    return _need_trades(data) or float(np.mean(data.hold))


@metric("avg_hold_seconds_win", "seconds", "mean hold time of winners")
def avg_hold_seconds_win(data: RunData) -> Value:
    mask = data.net > 0
    return float(np.mean(data.hold[mask])) if mask.any() else Undefined("no winning trades")


@metric("avg_hold_seconds_loss", "seconds", "mean hold time of losers")
def avg_hold_seconds_loss(data: RunData) -> Value:
    mask = data.net < 0
    return float(np.mean(data.hold[mask])) if mask.any() else Undefined("no losing trades")


@metric("exposure", "fraction", "time with a trade open / (last exit - first entry)")
def exposure(data: RunData) -> Value:
    if data.count == 0:
        return Undefined("no closed trades")
    spans = sorted((t.entry_ts, t.exit_ts) for t in data.trades)
    total = max(end for _s, end in spans) - spans[0][0]
    if total <= 0:
        return Undefined("the trades span no time")
    covered, current_start, current_end = 0, spans[0][0], spans[0][1]
    for start, end in spans[1:]:
        if start > current_end:
            covered += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    covered += current_end - current_start
    return covered / total


# -- drawdown and risk-adjusted returns (daily returns, empyrical's definitions) ------


@metric(
    "max_drawdown", "fraction", "min over days of equity / running peak - 1 (capital is a peak)"
)
def max_drawdown_fraction(data: RunData) -> Value:
    if data.initial_capital is None:
        return Undefined("the run has no initial_capital")
    return data.drawdown.fraction if data.count else Undefined("no closed trades")


@metric(
    "max_drawdown_amount",
    "currency",
    "the max drawdown in currency (without capital: of cumulative PnL)",
)
def max_drawdown_amount(data: RunData) -> Value:
    return _need_trades(data) or _money(data.drawdown.amount)


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
    return float(data.net_pnl / abs(data.drawdown.amount))


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


@metric("annual_return", "fraction", "(final equity / capital)^(252 / days) - 1")
def annual_return(data: RunData) -> Value:
    returns = data.returns
    if isinstance(returns, Undefined):
        return returns
    growth = float(np.prod(1.0 + returns))
    if growth <= 0:
        return Undefined("equity fell to zero or below")
    return float(growth ** (PERIODS_PER_YEAR / len(returns))) - 1.0


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
    values = [t.captured / t.mfe for t in data.trades if t.captured is not None and t.mfe]
    return float(np.mean(values)) if values else Undefined("no trade has a positive MFE")


@metric("mae_efficiency", "fraction", "mean of 1 - MAE / (MFE + MAE) (trades with MFE + MAE > 0)")
def mae_efficiency(data: RunData) -> Value:
    values = [
        1.0 - t.mae / (t.mfe + t.mae)
        for t in data.trades
        if t.mfe is not None and t.mae is not None and (t.mfe + t.mae) > 0
    ]
    return float(np.mean(values)) if values else Undefined("no trade has excursions")


def describe() -> list[dict[str, Any]]:
    """The metric set: name, unit and formula of each metric, for docs and the API."""
    return [{"name": m.name, "unit": m.unit, "formula": m.formula} for m in METRICS.values()]
