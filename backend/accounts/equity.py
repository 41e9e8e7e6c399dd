"""An account's equity, time-weighted return and drawdown. Pure.

Equity = starting balance + cash flows + realised P&L (+ open P&L marked at the last
bar), every amount an integer in 1e-8 units of the account's currency. Deposits,
withdrawals and payouts are money moved in or out, not performance: they split the
time into periods, and the time-weighted return chains the periods' returns, so a
deposit changes equity but not the return. Fees outside trades are a cost of trading,
like commission: they count against the return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

EXTERNAL = ("deposit", "withdrawal", "payout")  # money moved: splits the periods
PERFORMANCE = ("trade", "fee", "open")  # what the account earned or paid
KINDS = EXTERNAL + PERFORMANCE
_SIGN = {"deposit": 1, "withdrawal": -1, "payout": -1, "fee": -1}


def signed_cash(kind: str, units: int) -> int:
    """A cash flow's effect on equity: a deposit adds, the others take away."""
    return _SIGN[kind] * units


@dataclass(frozen=True)
class Entry:
    """One change of equity at `ts`: `units` already signed (a withdrawal is negative)."""

    ts: int
    kind: str
    units: int


@dataclass(frozen=True)
class Point:
    ts: int
    kind: str
    change: int
    equity: int
    growth: float | None  # the time-weighted index, 1.0 at the start; None once undefined
    drawdown: float | None  # growth / its running peak - 1


@dataclass
class Equity:
    starting_balance: int
    points: list[Point] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # by kind
    equity: int = 0
    time_weighted_return: float | None = None
    max_drawdown: float | None = None
    max_drawdown_amount: int = 0  # deepest fall of cumulative performance, <= 0
    undefined_reason: str | None = None


def _order(entry: Entry) -> tuple[int, int]:
    # at one instant money moved goes first: a deposit at an exit's time funds that period
    return (entry.ts, 0 if entry.kind in EXTERNAL else 1)


def account_equity(starting_balance: int, entries: Sequence[Entry]) -> Equity:
    """The equity curve after each entry (in time order) and its summary."""
    for entry in entries:
        if entry.kind not in KINDS:
            raise ValueError(f"kind: must be one of {', '.join(KINDS)}, got {entry.kind!r}")
    result = Equity(starting_balance, totals=dict.fromkeys(KINDS, 0))
    equity = starting_balance
    growth: float | None = 1.0
    peak_growth = 1.0
    worst: float | None = 0.0
    performance = peak_performance = 0
    reason = None
    for entry in sorted(entries, key=_order):
        before = equity
        equity += entry.units
        result.totals[entry.kind] += entry.units
        if entry.kind in PERFORMANCE and entry.units:
            performance += entry.units
            peak_performance = max(peak_performance, performance)
            result.max_drawdown_amount = min(
                result.max_drawdown_amount, performance - peak_performance
            )
            if growth is not None:
                if before <= 0:
                    growth = None
                    reason = (
                        "the account had no money (equity <= 0) when it earned or paid "
                        "something, so that period has no return"
                    )
                else:
                    growth *= equity / before
        drawdown = None
        if growth is not None:
            peak_growth = max(peak_growth, growth)
            drawdown = growth / peak_growth - 1
            assert worst is not None
            worst = min(worst, drawdown)
        result.points.append(Point(entry.ts, entry.kind, entry.units, equity, growth, drawdown))
    result.equity = equity
    if growth is None:
        result.undefined_reason = reason
        worst = None
    result.time_weighted_return = None if growth is None else growth - 1
    result.max_drawdown = worst
    return result
