"""Daily PnL, equity and returns of a run, by the conventions of docs/metrics.md. Pure.

Each closed trade's net PnL is booked on its exit's UTC date; an exit on a
Saturday or Sunday counts on the next Monday. Days run over business days
(Monday to Friday) from the first to the last exit day, days without exits
included with 0. Equity = initial capital + cumulative booked PnL, and the
first day's return is measured from the initial capital.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def epoch_date(day: int) -> dt.date:
    """The calendar date of a day number since the epoch."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def business_day(exit_ts: int) -> int:
    """Days since the epoch of the business day an exit is booked on."""
    day = exit_ts // NS_PER_DAY
    weekday = (day + _EPOCH_WEEKDAY) % 7
    return day + (7 - weekday if weekday >= 5 else 0)


@dataclass(frozen=True)
class Daily:
    days: npt.NDArray[np.int64]  # days since the epoch, business days only
    pnl: list[Decimal]  # booked net PnL per day (exact)
    cumulative: list[Decimal]  # cumulative booked PnL at each day's end

    def equity(self, initial_capital: Decimal) -> npt.NDArray[np.float64]:
        return np.array([float(initial_capital + c) for c in self.cumulative], dtype=np.float64)

    def returns(self, initial_capital: Decimal) -> npt.NDArray[np.float64]:
        equity = self.equity(initial_capital)
        previous = np.concatenate(([float(initial_capital)], equity[:-1]))
        result: npt.NDArray[np.float64] = equity / previous - 1.0
        return result


def daily(exit_ts: Sequence[int], net_pnl: Sequence[Decimal]) -> Daily:
    """Book PnL on business days; empty when there are no exits."""
    if not exit_ts:
        return Daily(np.empty(0, dtype=np.int64), [], [])
    booked: dict[int, Decimal] = {}
    for ts, amount in zip(exit_ts, net_pnl, strict=True):
        day = business_day(ts)
        booked[day] = booked.get(day, Decimal(0)) + amount
    first, last = min(booked), max(booked)
    span = np.arange(first, last + 1, dtype=np.int64)
    days = span[((span + _EPOCH_WEEKDAY) % 7) < 5]
    pnl = [booked.get(int(day), Decimal(0)) for day in days]
    cumulative: list[Decimal] = []
    running = Decimal(0)
    for value in pnl:
        running += value
        cumulative.append(running)
    return Daily(days, pnl, cumulative)


@dataclass(frozen=True)
class Drawdown:
    fraction: float  # <= 0, empyrical's max_drawdown (initial capital is a peak)
    amount: Decimal  # the same drawdown in currency (<= 0)
    peak_day: int | None
    trough_day: int | None
    duration_days: int  # business days from the peak until recovered (or the last day)


def max_drawdown(daily_: Daily, initial_capital: Decimal | None) -> Drawdown:
    """The deepest fall from a running peak of equity (of cumulative PnL without capital).

    With capital the depth is measured as a fraction of the peak (the percent
    drawdown); without it, in currency from a peak that starts at 0.
    """
    if not daily_.cumulative:
        return Drawdown(0.0, Decimal(0), None, None, 0)
    base = initial_capital if initial_capital is not None else Decimal(0)
    levels = [base] + [base + c for c in daily_.cumulative]  # index 0: before the first day
    peak_index = 0
    worst: tuple[float, Decimal, int, int] = (0.0, Decimal(0), 0, 0)
    for index, level in enumerate(levels):
        if level > levels[peak_index]:
            peak_index = index
        amount = level - levels[peak_index]
        depth = (
            float(amount / levels[peak_index])
            if initial_capital is not None and levels[peak_index] != 0
            else float(amount)
        )
        if depth < worst[0]:
            worst = (depth, amount, peak_index, index)
    depth, amount, peak, trough = worst
    if amount == 0:
        return Drawdown(0.0, Decimal(0), None, None, 0)
    recovered = next((i for i in range(trough, len(levels)) if levels[i] >= levels[peak]), None)
    end = recovered if recovered is not None else len(levels) - 1
    day = daily_.days
    peak_day = int(day[peak - 1]) if peak > 0 else int(day[0]) - 1
    return Drawdown(
        fraction=depth if initial_capital is not None else 0.0,
        amount=amount,
        peak_day=peak_day,
        trough_day=int(day[trough - 1]),
        duration_days=end - peak,
    )
