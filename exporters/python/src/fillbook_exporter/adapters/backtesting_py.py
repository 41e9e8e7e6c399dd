"""Export a finished backtesting.py backtest: its bars, fills and (reconstructed) orders.

    stats = Backtest(data, SmaCross, commission=0.002).run()
    with Exporter(url, key, "backtesting", run={"key": "smacross-goog", "strategy": "SmaCross",
                                                 "mode": "backtest"}) as exporter:
        export_backtest(exporter, stats, data, symbol="GOOG")

What backtesting.py keeps after a run, and so what this sends:
- bars: every row of `data` (stamped with its index, read as the bar's open time);
- fills: each closed trade of `stats._trades` gives an entry fill (at `EntryTime`,
  `EntryPrice`) and an exit fill (`ExitTime`, `ExitPrice`); a trade still open at the
  end gives its entry only. The trade's `Commission` (entry and exit together) is
  split in proportion to each fill's notional, which is exact for percentage
  commissions (backtesting.py's usual `commission=0.002`);
- orders: backtesting.py keeps no order history, so each fill gets one `filled`
  order: an exit at the trade's stop-loss is a `stop` order, at its take-profit a
  `limit` order, everything else `market` (limit or stop entries cannot be told
  apart afterwards).
Ids are `bt-<trade index>-entry` / `-exit`, so exporting the same stats again sends
only duplicates. Naive times are read in `tz` (default UTC): a time the clocks skipped
(a DST gap) raises `ValueError`, and a time of a repeated hour (fall back) is its first
pass, because backtesting.py sorts its index by wall time, so the data's order cannot
tell the passes apart. Give the data a tz-aware index to export such an hour exactly.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fillbook_exporter.adapters._time import aware, timeframe, zone
from fillbook_exporter.exporter import Exporter, OrderType, Side


def export_backtest(
    exporter: Exporter,
    stats: Any,
    data: Any,
    *,
    symbol: str,
    tz: str | dt.tzinfo = "UTC",
    bar_timeframe: str | None = None,
    multiplier: float | None = None,
    tick_size: float | None = None,
    end: bool = True,
) -> int:
    """Spool the backtest (one transaction); returns the number of fills."""
    zone_info = zone(tz)
    index = data.index
    if bar_timeframe is None:
        if len(index) < 2:
            raise ValueError("bar_timeframe: needed when data has fewer than two rows")
        bar_timeframe = timeframe(_common_step_seconds(index))
    trades = stats["_trades"]
    fills = 0
    with exporter.group():
        exporter.instrument(symbol, multiplier=multiplier, tick_size=tick_size)
        volumes = data["Volume"] if "Volume" in data.columns else None
        for position, (when, row) in enumerate(data.iterrows()):
            volume = None if volumes is None else float(volumes.iloc[position])
            exporter.bar(
                symbol, bar_timeframe, aware(when.to_pydatetime(), zone_info),
                float(row["Open"]), float(row["High"]), float(row["Low"]), float(row["Close"]),
                volume=None if volume is None or math.isnan(volume) else volume,
            )
        for number, trade in enumerate(trades.itertuples(index=False)):
            fills += _export_trade(exporter, symbol, number, trade, zone_info)
        if end:
            exporter.end(aware(index[-1].to_pydatetime(), zone_info))
    return fills


def _export_trade(
    exporter: Exporter, symbol: str, number: int, trade: Any, tz: dt.tzinfo
) -> int:
    size = float(trade.Size)
    entry_side: Side = "buy" if size > 0 else "sell"
    exit_side: Side = "sell" if size > 0 else "buy"
    qty = abs(size)
    closed = not _missing(trade.ExitTime)
    exit_price = float(trade.ExitPrice) if closed else math.nan
    entry_notional = qty * float(trade.EntryPrice)
    exit_notional = qty * exit_price if closed else 0.0
    commission = float(trade.Commission) if not _missing(trade.Commission) else 0.0
    entry_share = entry_notional / (entry_notional + exit_notional)
    legs: list[tuple[str, Side, Any, float, OrderType, float]] = [
        ("entry", entry_side, trade.EntryTime, float(trade.EntryPrice), "market",
         commission * entry_share)
    ]
    if closed:
        kind: OrderType = "market"
        if not _missing(trade.SL) and math.isclose(exit_price, float(trade.SL)):
            kind = "stop"
        elif not _missing(trade.TP) and math.isclose(exit_price, float(trade.TP)):
            kind = "limit"
        legs.append(("exit", exit_side, trade.ExitTime, exit_price, kind,
                     commission - commission * entry_share))
    for leg, side, when, price, kind, fee in legs:
        ts = aware(when.to_pydatetime(), tz)
        order_id = f"bt-{number}-{leg}"
        exporter.order(
            order_id, ts, symbol, side, kind, qty, "filled",
            id=order_id, filled_qty=qty, avg_fill_price=price,
            limit_price=price if kind == "limit" else None,
            stop_price=price if kind == "stop" else None,
        )
        exporter.execution(ts, symbol, side, qty, price,
                           id=order_id, order_id=order_id, commission=round(fee, 10))
    return len(legs)


def _common_step_seconds(index: Any) -> float:
    steps = sorted((later - earlier).total_seconds()
                   for earlier, later in zip(index[:-1], index[1:], strict=True))
    # Daily data skips weekends: the most common step is the bar length.
    return float(max(set(steps), key=steps.count))


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT
    except TypeError:
        return False
