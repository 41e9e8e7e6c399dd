"""Grouping closed trades for breakdowns and the PnL calendar. Pure.

Hour of day, weekday and calendar dates are in the user's time zone, converted
per trade with zoneinfo, so daylight-saving changes fall where they should.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from backend.analytics.metrics import METRICS, ClosedTrade, RunData, Undefined

CORE_METRICS = (
    "trade_count", "net_pnl", "gross_pnl", "commission", "win_rate", "avg_win", "avg_loss",
    "profit_factor", "expectancy", "expectancy_r", "avg_hold_seconds",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DIMENSIONS = ("symbol", "direction", "regime", "hour", "weekday", "instance", "tag")


@dataclass(frozen=True)
class TradeFacts:
    """A closed trade with the attributes breakdowns group by."""

    trade: ClosedTrade
    symbol: str
    direction: str
    trend: str | None
    volatility: str | None
    instance: str | None
    tags: tuple[str, ...]


def _local(ts: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts / 1e9, tz=dt.UTC).astimezone(zone)


def group_keys(by: str, zone: ZoneInfo) -> Callable[[TradeFacts], list[str]]:
    """How a trade maps to the groups of dimension `by` (a trade may have several tags)."""
    keys: dict[str, Callable[[TradeFacts], list[str]]] = {
        "symbol": lambda f: [f.symbol],
        "direction": lambda f: [f.direction],
        "regime": lambda f: [f"{f.trend or 'unknown'} / {f.volatility or 'unknown'}"],
        "hour": lambda f: [f"{_local(f.trade.entry_ts, zone).hour:02d}"],
        "weekday": lambda f: [WEEKDAYS[_local(f.trade.entry_ts, zone).weekday()]],
        "instance": lambda f: [f.instance or "(none)"],
        "tag": lambda f: list(f.tags) or ["(untagged)"],
    }
    if by not in keys:
        raise ValueError(f"by: must be one of {', '.join(DIMENSIONS)}, got {by!r}")
    return keys[by]


def core_metrics(trades: Sequence[ClosedTrade]) -> dict[str, Any]:
    data = RunData(trades)
    values: dict[str, Any] = {}
    for name in CORE_METRICS:
        value = METRICS[name].compute(data)
        values[name] = None if isinstance(value, Undefined) else value
    return values


def breakdown(facts: Sequence[TradeFacts], by: str, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Core metrics per group, groups in their natural order (hours, weekdays) or by name."""
    keys = group_keys(by, zone)
    groups: dict[str, list[ClosedTrade]] = defaultdict(list)
    for fact in facts:
        for key in keys(fact):
            groups[key].append(fact.trade)
    order: Callable[[str], Any] = WEEKDAYS.index if by == "weekday" else (lambda key: key)
    return [{"key": key, **core_metrics(groups[key])} for key in sorted(groups, key=order)]


def calendar(trades: Sequence[ClosedTrade], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Net PnL and trade count per local date of exit."""
    days: dict[dt.date, list[Decimal]] = defaultdict(list)
    for trade in trades:
        days[_local(trade.exit_ts, zone).date()].append(trade.net_pnl)
    return [
        {"date": day.isoformat(), "net_pnl": float(sum(values, Decimal(0))), "trades": len(values)}
        for day, values in sorted(days.items())
    ]
