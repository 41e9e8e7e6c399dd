"""Grouping closed trades for breakdowns and the PnL calendar. Pure.

Hour of day, weekday and calendar dates are in the user's time zone: each
timestamp is converted once, by pandas over the whole column (tz database rules,
so daylight-saving changes fall where they should). Groups are formed by codes,
and each group's core metrics run over its own slice of the columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from backend.analytics.confidence import trade_intervals
from backend.analytics.metrics import METRICS, RunData, Undefined
from backend.analytics.series import NS_PER_DAY, epoch_date
from backend.analytics.table import Ints, Labels, TradeTable, exact_sum, money

CORE_METRICS = (
    "trade_count", "net_pnl", "gross_pnl", "commission", "win_rate", "avg_win", "avg_loss",
    "profit_factor", "expectancy", "expectancy_r", "avg_hold_seconds",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DIMENSIONS = (
    "symbol", "direction", "regime", "hour", "weekday", "instance", "tag", "playbook", "mistake",
)  # fmt: skip
NO_PLAYBOOK = "No playbook"
NO_MISTAKE = "No mistake"
NS_PER_HOUR = 3_600 * 1_000_000_000
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)

# (row numbers, group name) pairs: a trade may sit in several groups (tags)
Membership = tuple[npt.NDArray[np.intp], list[str]]


def local_ns(ts: Ints, zone: ZoneInfo) -> Ints:
    """Wall-clock time in `zone` of each UTC timestamp, as nanoseconds of a naive clock."""
    wall = pd.DatetimeIndex(ts.view("datetime64[ns]")).tz_localize("UTC").tz_convert(zone.key)
    result: Ints = wall.tz_localize(None).asi8
    return result


def _by_label(values: Labels, missing: str) -> Membership:
    codes, names = pd.factorize(values, sort=False)  # None gets code -1
    labels = [str(name) for name in names]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(missing)
    return codes.astype(np.intp), labels


def _by_number(numbers: Ints, name: Callable[[int], str]) -> Membership:
    present, codes = np.unique(numbers, return_inverse=True)
    return codes.astype(np.intp), [name(n) for n in present.tolist()]


def _by_tag(
    tags: Labels, untagged_name: str = "(untagged)"
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], list[str]]:
    """Rows and group codes of each (trade, tag) pair; untagged trades form their own group."""
    counts = np.fromiter(map(len, tags), dtype=np.intp, count=len(tags))
    tagged = np.flatnonzero(counts)
    untagged = np.flatnonzero(counts == 0)
    names = [tag for trade_tags in tags[tagged] for tag in trade_tags]
    rows = np.concatenate((np.repeat(tagged, counts[tagged]), untagged))
    codes, uniques = pd.factorize(np.array(names + [untagged_name] * untagged.size, dtype=object))
    return rows, codes.astype(np.intp), [str(u) for u in uniques]


def groups(table: TradeTable, by: str, zone: ZoneInfo) -> dict[str, npt.NDArray[np.intp]]:
    """Row numbers of the trades in each group of dimension `by`, in exit order."""
    if by == "tag":
        rows, codes, names = _by_tag(table.tags)
    elif by == "mistake":
        rows, codes, names = _by_tag(table.mistakes, NO_MISTAKE)
    else:
        rows = np.arange(len(table), dtype=np.intp)
        if by == "symbol":
            codes, names = _by_label(table.symbol, "(none)")
        elif by == "direction":
            codes, names = _by_label(table.direction, "(none)")
        elif by == "instance":
            codes, names = _by_label(table.instance, "(none)")
        elif by == "playbook":
            codes, names = _by_label(table.playbook, NO_PLAYBOOK)
        elif by == "regime":
            trend, trends = _by_label(table.trend, "unknown")
            volatility, volatilities = _by_label(table.volatility, "unknown")
            pairs, codes = np.unique(trend * len(volatilities) + volatility, return_inverse=True)
            names = [
                f"{trends[p // len(volatilities)]} / {volatilities[p % len(volatilities)]}"
                for p in pairs.tolist()
            ]
        elif by in ("hour", "weekday"):
            wall = local_ns(table.entry_ts, zone)
            if by == "hour":
                codes, names = _by_number((wall // NS_PER_HOUR) % 24, lambda h: f"{h:02d}")
            else:
                day = wall // NS_PER_DAY
                codes, names = _by_number((day + _EPOCH_WEEKDAY) % 7, WEEKDAYS.__getitem__)
        else:
            raise ValueError(f"by: must be one of {', '.join(DIMENSIONS)}, got {by!r}")
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return {
        names[int(codes[order[chunk[0]]])]: rows[order[chunk]]
        for chunk in np.split(np.arange(order.size), bounds)
        if chunk.size
    }


def core_metrics(table: TradeTable) -> dict[str, Any]:
    data = RunData(table)
    values: dict[str, Any] = {}
    for name in CORE_METRICS:
        value = METRICS[name].compute(data)
        values[name] = None if isinstance(value, Undefined) else value
    values["intervals"] = {
        name: interval.as_dict()
        for name, interval in trade_intervals(data.net, table.r_multiple).items()
    }
    return values


def breakdown(table: TradeTable, by: str, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Core metrics per group, groups in their natural order (hours, weekdays) or by name;
    each group with the confidence intervals of its win rate, expectancy, profit factor
    and average R (`intervals`)."""
    members = groups(table, by, zone)
    order: Callable[[str], Any] = WEEKDAYS.index if by == "weekday" else (lambda key: key)
    return [
        {"key": key, **core_metrics(table.take(members[key], labels=False))}
        for key in sorted(members, key=order)
    ]


def calendar(table: TradeTable, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Net PnL and trade count per local date of exit."""
    if not len(table):
        return []
    day = local_ns(table.exit_ts, zone) // NS_PER_DAY
    order = np.argsort(day, kind="stable")
    days, starts, counts = np.unique(day[order], return_index=True, return_counts=True)
    net = table.net[order]
    return [
        {
            "date": epoch_date(int(d)).isoformat(),
            "net_pnl": money(exact_sum(net[start : start + count])),
            "trades": int(count),
        }
        for d, start, count in zip(days, starts, counts, strict=True)
    ]
