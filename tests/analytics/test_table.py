"""The columnar path against plain per-trade Python over Decimals, on random runs."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.analytics.breakdowns import breakdown, calendar
from backend.analytics.metrics import ClosedTrade, RunData, compute_all
from backend.analytics.series import business_day
from backend.analytics.table import (
    TradeTable,
    exact_sum,
    mean_money,
    running_total,
    to_units,
)
from backend.ingest.domain import MAX_TOTAL_UNITS, DomainError
from backend.ingest.timestamps import format_ts, format_ts_array

S = 1_000_000_000
START = 1_704_067_200 * S  # 2024-01-01T00:00:00Z
NEW_YORK = ZoneInfo("America/New_York")

cents = st.integers(min_value=-5_000_000, max_value=5_000_000).map(lambda c: Decimal(c) / 100)
trades = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=400 * 86_400),  # exit, seconds after START
        st.integers(min_value=0, max_value=3 * 86_400),  # hold, seconds
        cents,
        st.integers(min_value=0, max_value=500).map(lambda c: Decimal(c) / 100),  # commission
    ).map(
        lambda t: ClosedTrade(
            net_pnl=t[2],
            gross_pnl=t[2] + t[3],
            commission=t[3],
            entry_ts=START + (t[0] - t[1]) * S,
            exit_ts=START + t[0] * S,
        )  # fmt: skip
    ),
    max_size=60,
)


def _in_exit_order(run: list[ClosedTrade]) -> list[ClosedTrade]:
    return sorted(run, key=lambda t: (t.exit_ts, t.entry_ts))


def _streak(run: list[ClosedTrade], sign: int) -> int:
    best = current = 0
    for trade in _in_exit_order(run):
        current = current + 1 if trade.net_pnl * sign > 0 else 0
        best = max(best, current)
    return best


def _exposure(run: list[ClosedTrade]) -> float | None:
    spans = sorted((t.entry_ts, t.exit_ts) for t in run)
    total = max(end for _s, end in spans) - spans[0][0]
    if total <= 0:
        return None
    covered, start, end = 0, spans[0][0], spans[0][1]
    for s, e in spans[1:]:
        if s > end:
            covered, start, end = covered + end - start, s, e
        else:
            end = max(end, e)
    return (covered + end - start) / total


def _drawdown(run: list[ClosedTrade]) -> tuple[Decimal, int]:
    """Deepest fall of cumulative daily PnL from its running peak (from 0), and its duration."""
    booked: dict[int, Decimal] = defaultdict(Decimal)
    for trade in run:
        booked[business_day(trade.exit_ts)] += trade.net_pnl
    first, last = min(booked), max(booked)
    days = [d for d in range(first, last + 1) if (d + 3) % 7 < 5]
    levels = [Decimal(0)]
    for day in days:
        levels.append(levels[-1] + booked.get(day, Decimal(0)))
    worst, peak_at, worst_peak, worst_at = Decimal(0), 0, 0, 0
    for index, level in enumerate(levels):
        if level > levels[peak_at]:
            peak_at = index
        if level - levels[peak_at] < worst:
            worst, worst_peak, worst_at = level - levels[peak_at], peak_at, index
    if worst == 0:
        return Decimal(0), 0
    later = [i for i in range(worst_at, len(levels)) if levels[i] >= levels[worst_peak]]
    return worst, (later[0] if later else len(levels) - 1) - worst_peak


class TestAgainstPlainPython:
    @settings(max_examples=150, deadline=None)
    @given(trades)
    def test_metrics(self, run: list[ClosedTrade]) -> None:
        values, _ = compute_all(RunData(run))
        winners = [t.net_pnl for t in run if t.net_pnl > 0]
        losers = [t.net_pnl for t in run if t.net_pnl < 0]
        assert values["net_pnl"] == float(sum((t.net_pnl for t in run), Decimal(0)))
        assert values["commission"] == float(sum((t.commission for t in run), Decimal(0)))
        assert values["avg_win"] == (
            float((sum(winners, Decimal(0)) / len(winners)).quantize(Decimal("1e-8")))
            if winners
            else None
        )
        assert values["largest_loss"] == (float(min(losers)) if losers else None)
        assert values["max_win_streak"] == _streak(run, 1)
        assert values["max_loss_streak"] == _streak(run, -1)
        if run:
            expected = _exposure(run)
            assert values["exposure"] == (
                None if expected is None else pytest.approx(expected, rel=1e-12)
            )
            amount, duration = _drawdown(run)
            assert values["max_drawdown_amount"] == float(amount)
            assert values["max_drawdown_duration_days"] == duration

    @settings(max_examples=60, deadline=None)
    @given(trades)
    def test_calendar_and_hour_breakdown_in_new_york(self, run: list[ClosedTrade]) -> None:
        table = TradeTable.from_trades(run)
        days: dict[str, Decimal] = defaultdict(Decimal)
        hours: dict[str, list[Decimal]] = defaultdict(list)
        for trade in run:
            local_exit = dt.datetime.fromtimestamp(trade.exit_ts / S, dt.UTC).astimezone(NEW_YORK)
            days[local_exit.date().isoformat()] += trade.net_pnl
            local_entry = dt.datetime.fromtimestamp(trade.entry_ts / S, dt.UTC).astimezone(NEW_YORK)
            hours[f"{local_entry.hour:02d}"].append(trade.net_pnl)
        assert {d["date"]: d["net_pnl"] for d in calendar(table, NEW_YORK)} == {
            day: float(total) for day, total in days.items()
        }
        assert {
            g["key"]: (g["trade_count"], g["net_pnl"]) for g in breakdown(table, "hour", NEW_YORK)
        } == {hour: (len(pnl), float(sum(pnl, Decimal(0)))) for hour, pnl in hours.items()}


class TestExactMoney:
    def test_sums_past_float_precision_stay_exact(self) -> None:
        # 0.1 a million times is 100000.0000000013 in floats; in 1e-8 units it is exact
        units = np.full(1_000_000, to_units(Decimal("0.1")), dtype=np.int64)
        assert exact_sum(units) == 100_000 * 10**8
        assert sum([0.1] * 1_000_000) != 100_000.0

    def test_sum_of_amounts_beyond_int64_whole_units(self) -> None:
        units = np.full(4, 2**62, dtype=np.int64)  # the int64 sum would overflow
        assert exact_sum(units) == 2**64

    def test_running_totals_refuse_to_overflow(self) -> None:
        with pytest.raises(DomainError, match="add up to more than 46,116,860,184 "):
            running_total(np.array([MAX_TOTAL_UNITS // 2, MAX_TOTAL_UNITS // 2], dtype=np.int64))

    def test_means_round_half_even_at_the_eighth_decimal(self) -> None:
        assert mean_money(5, 2) == 0.00000002  # 2.5e-8 rounds to the even 2e-8
        assert mean_money(7, 2) == 0.00000004
        assert to_units(Decimal("0.000000025")) == 2


def test_timestamps_format_like_format_ts() -> None:
    rng = np.random.default_rng(7)
    values = rng.integers(0, 2**62, 4000, dtype=np.int64)
    values[::4] -= values[::4] % S  # whole seconds
    values[1::4] -= values[1::4] % 1_000_000  # milliseconds
    values[2::4] -= values[2::4] % 1_000  # microseconds
    assert format_ts_array(values) == [format_ts(int(v)) for v in values]
