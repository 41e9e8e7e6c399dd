"""Daily PnL, equity and returns of a run, by the conventions of docs/metrics.md. Pure.

Each closed trade's net PnL is booked on its exit's UTC date; an exit on a
Saturday or Sunday counts on the next Monday. Days run over business days
(Monday to Friday) from the first to the last exit day, days without exits
included with 0. Equity = initial capital + cumulative booked PnL, and the
first day's return is measured from the initial capital.

Amounts are integers of 1e-8 (backend/analytics/table.py), so every total is exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from backend.analytics.table import UNIT, Ints, running_total

NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


def epoch_date(day: int) -> dt.date:
    """The calendar date of a day number since the epoch."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def business_day(exit_ts: int) -> int:
    """Days since the epoch of the business day an exit is booked on."""
    return int(business_days(np.array([exit_ts], dtype=np.int64))[0])


def business_days(exit_ts: Ints) -> Ints:
    """`business_day` of each exit."""
    day = exit_ts // NS_PER_DAY
    weekday = (day + _EPOCH_WEEKDAY) % 7
    shifted: Ints = day + np.where(weekday >= 5, 7 - weekday, 0)
    return shifted


@dataclass(frozen=True)
class Daily:
    days: Ints  # days since the epoch, business days only
    pnl: Ints  # booked net PnL per day, in 1e-8 units
    cumulative: Ints  # cumulative booked PnL at each day's end, in 1e-8 units

    def equity(self, capital_units: int) -> npt.NDArray[np.float64]:
        equity: npt.NDArray[np.float64] = (capital_units + self.cumulative) / UNIT
        return equity

    def returns(self, capital_units: int) -> npt.NDArray[np.float64]:
        equity = self.equity(capital_units)
        previous = np.concatenate(([capital_units / UNIT], equity[:-1]))
        result: npt.NDArray[np.float64] = equity / previous - 1.0
        return result


def daily(exit_ts: Ints, net_units: Ints) -> Daily:
    """Book PnL on business days; exits must be in time order. Empty without exits."""
    if not exit_ts.size:
        empty = np.empty(0, dtype=np.int64)
        return Daily(empty, empty, empty)
    booked_on = business_days(exit_ts)  # non-decreasing, as the exits are
    starts = np.flatnonzero(np.concatenate(([True], booked_on[1:] != booked_on[:-1])))
    span = np.arange(booked_on[0], booked_on[-1] + 1, dtype=np.int64)
    days = span[((span + _EPOCH_WEEKDAY) % 7) < 5]
    pnl = np.zeros(days.size, dtype=np.int64)
    pnl[np.searchsorted(days, booked_on[starts])] = np.add.reduceat(net_units, starts)
    return Daily(days, pnl, running_total(pnl))


@dataclass(frozen=True)
class Drawdown:
    fraction: float  # <= 0, empyrical's max_drawdown (initial capital is a peak)
    amount: int  # the same drawdown in currency, 1e-8 units (<= 0)
    peak_day: int | None
    trough_day: int | None
    duration_days: int  # business days from the peak until recovered (or the last day)


NO_DRAWDOWN = Drawdown(0.0, 0, None, None, 0)


def max_drawdown(daily_: Daily, capital_units: int | None) -> Drawdown:
    """The deepest fall from a running peak of equity (of cumulative PnL without capital).

    With capital the depth is measured as a fraction of the peak (the percent
    drawdown); without it, in currency from a peak that starts at 0. The peak is
    the first day the running maximum was reached; the trough the first deepest day.
    """
    if not daily_.cumulative.size:
        return NO_DRAWDOWN
    base = capital_units if capital_units is not None else 0
    levels = np.concatenate(([base], base + daily_.cumulative))  # index 0: before day one
    peaks = np.maximum.accumulate(levels)
    amounts = levels - peaks
    if capital_units is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            depths = np.where(peaks != 0, amounts / np.where(peaks != 0, peaks, 1), amounts / UNIT)
    else:
        depths = amounts / UNIT
    trough = int(np.argmin(depths))
    if depths[trough] >= 0 or amounts[trough] == 0:
        return NO_DRAWDOWN
    new_peak = np.concatenate(([True], levels[1:] > peaks[:-1]))
    peak = int(np.flatnonzero(new_peak[: trough + 1])[-1])
    recovered = np.flatnonzero(levels[trough:] >= levels[peak])
    end = trough + int(recovered[0]) if recovered.size else levels.size - 1
    day = daily_.days
    return Drawdown(
        fraction=float(depths[trough]) if capital_units is not None else 0.0,
        amount=int(amounts[trough]),
        peak_day=int(day[peak - 1]) if peak > 0 else int(day[0]) - 1,
        trough_day=int(day[trough - 1]),
        duration_days=end - peak,
    )


@dataclass(frozen=True)
class TradeCurve:
    """Equity and drawdown after each exit, trade by trade (what the charts draw)."""

    equity: Ints  # base + cumulative net PnL after each exit, 1e-8 units
    drawdown: Ints  # equity - running peak (the base counts as a peak), <= 0
    percent: npt.NDArray[np.float64]  # drawdown / running peak; NaN without capital

    @property
    def trough_amount(self) -> int:
        """The deepest drawdown in units (0 without any)."""
        return int(self.drawdown.min()) if self.drawdown.size else 0

    @property
    def trough_fraction(self) -> float | None:
        """The deepest drawdown in percent of its peak (None when no peak was positive)."""
        known = self.percent[~np.isnan(self.percent)]
        return float(min(known.min(), 0.0)) if known.size else None


def trade_curve(net_units: Ints, capital_units: int | None) -> TradeCurve:
    """Equity after each exit (in exit order) and its fall from the running peak.

    The base (the initial capital, or 0 without one) is the first peak, so a run that
    starts with a loss is in drawdown from its first trade.
    """
    base = capital_units or 0
    equity = base + running_total(net_units)
    peak = np.maximum(np.maximum.accumulate(equity), base) if equity.size else equity
    drawdown: Ints = equity - peak
    percent = np.full(equity.size, np.nan)
    if capital_units:
        positive = peak > 0
        percent[positive] = drawdown[positive] / peak[positive]
    return TradeCurve(equity, drawdown, percent)


def downsample(count: int, max_points: int, columns: Sequence[npt.NDArray[Any]]) -> Ints:
    """Row numbers of at most `max_points` of `count` points that draw the same curves.

    The points are cut into equal buckets of consecutive rows; each bucket keeps its
    first and last row and, of every column, the row of its minimum and of its maximum
    (the first such row; NaN is skipped). So every column's lowest and highest value
    (the equity peak, the drawdown trough) are kept exactly, at their own row, and the
    first and last points are kept. All rows when there are no more than `max_points`.
    Rows kept by several roles count once, so more buckets are tried while they fit.
    """
    if count <= max_points:
        return np.arange(count, dtype=np.int64)
    buckets = max(1, max_points // (2 + 2 * len(columns)))  # fits whatever repeats
    rows = _bucket_extremes(count, buckets, columns)
    for _ in range(4):
        more = _bucket_extremes(count, buckets * 3 // 2, columns)
        if more.size > max_points:
            break
        buckets, rows = buckets * 3 // 2, more
    return rows


def _bucket_extremes(count: int, buckets: int, columns: Sequence[npt.NDArray[Any]]) -> Ints:
    size = -(-count // buckets)  # ceil
    buckets = -(-count // size)
    starts = np.arange(buckets, dtype=np.int64) * size
    keep = [starts, np.minimum(starts + size, count) - 1]
    padded = buckets * size
    for column in columns:
        values = np.asarray(column, dtype=np.float64)
        # Pad with the last value: argmin/argmax return the first extreme, so a padded
        # copy is never picked over the real row it copies.
        values = np.concatenate((values, np.full(padded - count, values[-1])))
        grid = values.reshape(buckets, size)
        low = np.where(np.isnan(grid), np.inf, grid).argmin(axis=1)
        high = np.where(np.isnan(grid), -np.inf, grid).argmax(axis=1)
        keep += [np.minimum(starts + low, count - 1), np.minimum(starts + high, count - 1)]
    rows: Ints = np.unique(np.concatenate(keep))
    return rows
