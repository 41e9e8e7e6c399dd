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

from backend.analytics.series import (
    Daily,
    Drawdown,
    TradeCurve,
    daily,
    max_drawdown,
    trade_curve,
)
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

VERSION = 2  # 2: trade-by-trade drawdowns, annualising from 20 business days, MFE ratio of sums
PERIODS_PER_YEAR = 252
# Annualised figures (Sharpe, Sortino, annual return, Calmar) need daily returns over at
# least this many business days: scaling three days to a year says nothing (docs/metrics.md).
MIN_ANNUALISED_DAYS = 20
UNITS = ("currency", "fraction", "ratio", "count", "seconds", "days", "R")


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

    @cached_property
    def curve(self) -> TradeCurve:
        """Equity and drawdown after each exit: what the charts draw."""
        return trade_curve(self.table.net, self.capital_units)

    def too_short_to_annualise(self, returns: npt.NDArray[np.float64]) -> Undefined | None:
        """Why `returns` span too few business days to scale to a year (None: they do not)."""
        if len(returns) >= MIN_ANNUALISED_DAYS:
            return None
        return Undefined(
            f"annualised figures need at least {MIN_ANNUALISED_DAYS} business days of "
            f"returns; this one spans {len(returns)}"
        )


@dataclass(frozen=True)
class MetricDef:
    name: str
    unit: str  # one of UNITS
    formula: str
    label: str  # what a person reads: never the raw name
    description: str  # one line: what the number tells
    compute: Callable[[RunData], Value]


METRICS: dict[str, MetricDef] = {}


def metric(
    name: str, unit: str, formula: str, *, label: str, description: str
) -> Callable[[Callable[[RunData], Value]], Callable[[RunData], Value]]:
    """Register a metric function under `name`, with its unit, formula, label and description."""

    def register(fn: Callable[[RunData], Value]) -> Callable[[RunData], Value]:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is registered twice")
        if unit not in UNITS:
            raise ValueError(f"metric {name!r} has an unknown unit {unit!r}")
        METRICS[name] = MetricDef(name, unit, formula, label, description, fn)
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


@metric(
    "net_pnl",
    "currency",
    "sum of closed trades' net PnL",
    label="Net P&L",
    description="Profit after commissions over every closed trade.",
)
def net_pnl(data: RunData) -> Value:
    return money(data.net_units)


@metric(
    "gross_pnl",
    "currency",
    "sum of closed trades' gross PnL",
    label="Gross P&L",
    description="Profit before commissions over every closed trade.",
)
def gross_pnl(data: RunData) -> Value:
    return money(data.gross_units)


@metric(
    "commission",
    "currency",
    "sum of closed trades' commissions",
    label="Commissions paid",
    description="Commissions of the closed trades.",
)
def commission(data: RunData) -> Value:
    return money(exact_sum(data.table.commission))


@metric(
    "commission_share",
    "fraction",
    "commission / gross_pnl (gross PnL > 0)",
    label="Commission share of gross P&L",
    description="How much of the gross profit the commissions took.",
)
def commission_share(data: RunData) -> Value:
    if data.gross_units <= 0:
        return Undefined("gross PnL is not positive")
    return float(Decimal(exact_sum(data.table.commission)) / data.gross_units)


@metric(
    "trade_count",
    "count",
    "number of closed trades",
    label="Closed trades",
    description="How many round trips closed.",
)
def trade_count(data: RunData) -> Value:
    return data.count


@metric(
    "win_rate",
    "fraction",
    "winners / closed trades; a winner has net PnL > 0",
    label="Win rate",
    description="Share of closed trades that made money after commissions.",
)
def win_rate(data: RunData) -> Value:
    return _need_trades(data) or data.wins[0] / data.count


@metric(
    "avg_win",
    "currency",
    "mean net PnL of winners",
    label="Average win",
    description="Mean net P&L of the winning trades.",
)
def avg_win(data: RunData) -> Value:
    count, total = data.wins
    return mean_money(total, count) if count else Undefined("no winning trades")


@metric(
    "avg_loss",
    "currency",
    "mean net PnL of losers (negative)",
    label="Average loss",
    description="Mean net P&L of the losing trades (negative).",
)
def avg_loss(data: RunData) -> Value:
    count, total = data.losses
    return mean_money(total, count) if count else Undefined("no losing trades")


@metric(
    "payoff_ratio",
    "ratio",
    "avg_win / |avg_loss|",
    label="Payoff ratio",
    description="Average win divided by the size of the average loss.",
)
def payoff_ratio(data: RunData) -> Value:
    win, loss = avg_win(data), avg_loss(data)
    if isinstance(win, Undefined):
        return win
    if isinstance(loss, Undefined):
        return loss
    assert isinstance(win, float)
    assert isinstance(loss, float)
    return win / abs(loss)


@metric(
    "profit_factor",
    "ratio",
    "sum of winners' net PnL / |sum of losers' net PnL|",
    label="Profit factor",
    description="Money won divided by money lost (net of commissions).",
)
def profit_factor(data: RunData) -> Value:
    losers, loss = data.losses
    if not losers:
        return Undefined("no losing trades")
    return float(Decimal(data.wins[1]) / abs(loss))


@metric(
    "expectancy",
    "currency",
    "mean net PnL per closed trade",
    label="Expectancy per trade",
    description="What a closed trade made on average, after commissions.",
)
def expectancy(data: RunData) -> Value:
    return _need_trades(data) or mean_money(data.net_units, data.count)


@metric(
    "expectancy_r",
    "R",
    "mean R-multiple of the closed trades that have one",
    label="Expectancy in R",
    description="Average result per trade in units of its initial risk.",
)
def expectancy_r(data: RunData) -> Value:
    rs = data.table.r_multiple[~np.isnan(data.table.r_multiple)]
    return float(np.mean(rs)) if rs.size else Undefined("no trade has a known initial risk")


@metric(
    "sqn",
    "ratio",
    "sqrt(n) x mean(net PnL) / stdev(net PnL, n-1), n >= 2",
    label="System quality number (SQN)",
    description="Van Tharp's score: consistency of trade results, sqrt(n) x mean / spread.",
)
def sqn(data: RunData) -> Value:
    if data.count < 2:
        return Undefined("needs at least 2 closed trades")
    spread = float(np.std(data.net, ddof=1))
    if spread == 0:
        return Undefined("every trade has the same net PnL")
    return math.sqrt(data.count) * float(np.mean(data.net)) / spread


@metric(
    "largest_win",
    "currency",
    "largest net PnL of a winner",
    label="Largest win",
    description="The best single trade, net of commissions.",
)
def largest_win(data: RunData) -> Value:
    if not data.wins[0]:
        return Undefined("no winning trades")
    return money(int(data.table.net.max()))


@metric(
    "largest_loss",
    "currency",
    "most negative net PnL of a loser",
    label="Largest loss",
    description="The worst single trade, net of commissions.",
)
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


@metric(
    "max_win_streak",
    "count",
    "most consecutive winners, in exit order",
    label="Longest winning streak",
    description="Most winners in a row, in exit order.",
)
def max_win_streak(data: RunData) -> Value:
    return _longest_streak(data.winning)


@metric(
    "max_loss_streak",
    "count",
    "most consecutive losers, in exit order",
    label="Longest losing streak",
    description="Most losers in a row, in exit order.",
)
def max_loss_streak(data: RunData) -> Value:
    return _longest_streak(data.losing)


# -- time ---------------------------------------------------------------------------


@metric(
    "avg_hold_seconds",
    "seconds",
    "mean of exit_ts - entry_ts",
    label="Average holding time",
    description="How long a trade stayed open on average.",
)
def avg_hold_seconds(data: RunData) -> Value:
    return _need_trades(data) or float(np.mean(data.hold))


@metric(
    "avg_hold_seconds_win",
    "seconds",
    "mean hold time of winners",
    label="Average holding time of winners",
    description="How long a winning trade stayed open on average.",
)
def avg_hold_seconds_win(data: RunData) -> Value:
    mask = data.winning
    return float(np.mean(data.hold[mask])) if mask.any() else Undefined("no winning trades")


@metric(
    "avg_hold_seconds_loss",
    "seconds",
    "mean hold time of losers",
    label="Average holding time of losers",
    description="How long a losing trade stayed open on average.",
)
def avg_hold_seconds_loss(data: RunData) -> Value:
    mask = data.losing
    return float(np.mean(data.hold[mask])) if mask.any() else Undefined("no losing trades")


@metric(
    "exposure",
    "fraction",
    "time with a trade open / (last exit - first entry)",
    label="Time in the market",
    description="Share of the run's time with at least one trade open.",
)
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
    "max_drawdown",
    "fraction",
    "min over days of equity / running peak - 1 (capital is a peak)",
    label="Max drawdown % (daily closes)",
    description="Deepest fall of end-of-day equity below its peak, in percent of that peak.",
)
def max_drawdown_fraction(data: RunData) -> Value:
    if data.capital_units is None:
        return Undefined("the run has no initial_capital")
    return data.drawdown.fraction if data.count else Undefined("no closed trades")


@metric(
    "max_drawdown_amount",
    "currency",
    "the max drawdown in currency (without capital: of cumulative PnL)",
    label="Max drawdown amount (daily closes)",
    description="The percent drawdown of daily closes in money.",
)
def max_drawdown_amount(data: RunData) -> Value:
    return _need_trades(data) or money(data.drawdown.amount)


@metric(
    "max_drawdown_duration_days",
    "days",
    "business days from the drawdown's peak to recovery (or the end)",
    label="Max drawdown duration (daily closes)",
    description="Business days from that drawdown's peak until equity was back (or the end).",
)
def max_drawdown_duration(data: RunData) -> Value:
    return _need_trades(data) or data.drawdown.duration_days


@metric(
    "max_drawdown_trades",
    "currency",
    "min over exits of equity - running peak (capital is a peak): the drawdown chart's trough",
    label="Max drawdown (closed trades)",
    description="Deepest fall of equity below its peak, trade by trade: the drawdown chart's low.",
)
def max_drawdown_trades(data: RunData) -> Value:
    return _need_trades(data) or money(data.curve.trough_amount)


@metric(
    "max_drawdown_trades_pct",
    "fraction",
    "min over exits of (equity - running peak) / running peak (capital is a peak)",
    label="Max drawdown % (closed trades)",
    description="Deepest fall of equity below its peak after any exit, in percent of the peak.",
)
def max_drawdown_trades_pct(data: RunData) -> Value:
    if data.capital_units is None:
        return Undefined("the run has no initial_capital")
    if data.count == 0:
        return Undefined("no closed trades")
    trough = data.curve.trough_fraction
    return trough if trough is not None else Undefined("equity was never positive")


@metric(
    "recovery_factor",
    "ratio",
    "net_pnl / |max_drawdown_amount|",
    label="Recovery factor",
    description="Net P&L divided by the daily-close drawdown amount.",
)
def recovery_factor(data: RunData) -> Value:
    if data.count == 0:
        return Undefined("no closed trades")
    if data.drawdown.amount == 0:
        return Undefined("no drawdown")
    return float(Decimal(data.net_units) / abs(data.drawdown.amount))


@metric(
    "sharpe",
    "ratio",
    "mean(daily returns) / stdev(daily returns, n-1) x sqrt(252)",
    label="Sharpe ratio (annualised)",
    description="Mean daily return over its spread, scaled to a year; needs 20 business days.",
)
def sharpe(data: RunData) -> Value:
    returns = data.returns
    if isinstance(returns, Undefined):
        return returns
    if len(returns) < 2:
        return Undefined("needs at least 2 daily returns")
    spread = float(np.std(returns, ddof=1))
    if spread == 0:
        return Undefined("daily returns do not vary")
    if short := data.too_short_to_annualise(returns):
        return short
    return float(np.mean(returns)) / spread * math.sqrt(PERIODS_PER_YEAR)


@metric(
    "sortino",
    "ratio",
    "mean(daily returns) x 252 / (sqrt(mean(min(r, 0)^2)) x sqrt(252))",
    label="Sortino ratio (annualised)",
    description="Like Sharpe but only losing days count as risk; needs 20 business days.",
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
    if short := data.too_short_to_annualise(returns):
        return short
    return float(np.mean(returns)) * PERIODS_PER_YEAR / downside


_MAX_EXPONENT = 700.0  # math.exp overflows past ~709.78


@metric(
    "annual_return",
    "fraction",
    "(final equity / capital)^(252 / days) - 1",
    label="Annualised return",
    description="Growth of equity compounded to a year of 252 days; needs 20 business days.",
)
def annual_return(data: RunData) -> Value:
    returns = data.returns
    if isinstance(returns, Undefined):
        return returns
    if bool(np.any(returns <= -1.0)):
        return Undefined("equity fell to zero or below")
    if short := data.too_short_to_annualise(returns):
        return short
    # In logs: a run that grew a millionfold in days would overflow growth ** (252 / days).
    exponent = float(np.sum(np.log1p(returns))) * PERIODS_PER_YEAR / len(returns)
    if exponent > _MAX_EXPONENT:
        return Undefined("the annualised growth is beyond what a number can hold")
    return math.expm1(exponent)


@metric(
    "calmar",
    "ratio",
    "annual_return / |max_drawdown|",
    label="Calmar ratio",
    description="Annualised return over the daily-close max drawdown; needs 20 business days.",
)
def calmar(data: RunData) -> Value:
    annual = annual_return(data)
    if isinstance(annual, Undefined):
        return annual
    if data.drawdown.fraction == 0:
        return Undefined("no drawdown")
    assert isinstance(annual, float)
    return annual / abs(data.drawdown.fraction)


# -- excursions ---------------------------------------------------------------------


@metric(
    "mfe_efficiency",
    "fraction",
    "sum of captured moves / sum of MFEs (trades with both known; sum of MFEs > 0)",
    label="Share of favourable excursion captured",
    description="Of all the favourable moves (MFE) the trades saw, the part kept at exit.",
)
def mfe_efficiency(data: RunData) -> Value:
    # A ratio of sums, not a mean of ratios: one trade with a tiny MFE cannot blow it up
    # (a mean of captured / MFE read -1940 % on a real run). At most 1 (a trade captures
    # at most its MFE); at least -sum(MAE) / sum(MFE).
    table = data.table
    known = ~np.isnan(table.captured) & ~np.isnan(table.mfe)
    total_mfe = float(np.sum(table.mfe[known]))
    if total_mfe <= 0:
        return Undefined("no trade has a positive MFE")
    return float(np.sum(table.captured[known])) / total_mfe


@metric(
    "mae_efficiency",
    "fraction",
    "mean of 1 - MAE / (MFE + MAE) (trades with MFE + MAE > 0)",
    label="Adverse excursion efficiency",
    description="Per trade, how little of its whole range went against it; 100 % never did.",
)
def mae_efficiency(data: RunData) -> Value:
    table = data.table
    span = table.mfe + table.mae  # NaN where either is unknown
    known = ~np.isnan(span) & (span > 0)
    if not known.any():
        return Undefined("no trade has excursions")
    return float(np.mean(1.0 - table.mae[known] / span[known]))


ANNUALISED = ("sharpe", "sortino", "annual_return", "calmar")
# How each metric with a confidence interval gets it (backend/analytics/confidence.py)
INTERVALS = {
    "win_rate": "95 % Wilson score interval of winners / trades",
    "expectancy": "95 % percentile bootstrap over the trades (1,000 seeded resamples)",
    "profit_factor": "95 % percentile bootstrap over the trades (1,000 seeded resamples)",
    "expectancy_r": "95 % percentile bootstrap over the trades with a known R",
    "sharpe": "95 % percentile bootstrap over the daily returns (1,000 seeded resamples)",
}


def describe() -> list[dict[str, Any]]:
    """The metric set: name, label, unit, formula, description and how its confidence
    interval is computed (None: it has none), for docs and the API."""
    return [
        {
            "name": m.name,
            "label": m.label,
            "unit": m.unit,
            "formula": m.formula,
            "description": m.description,
            "annualised": m.name in ANNUALISED,
            "interval": INTERVALS.get(m.name),
        }
        for m in METRICS.values()
    ]
