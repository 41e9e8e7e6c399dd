"""A backtrader analyzer that streams orders, fills and bars to Fillbook as they happen.

    cerebro.adddata(feed, name="MESZ3")
    cerebro.addanalyzer(FillbookAnalyzer, exporter=exporter, tz="UTC")
    cerebro.run()
    exporter.close()

- Orders: every `notify_order` becomes an `order` event: Submitted -> `new`,
  Accepted -> `working`, Partial -> `partially_filled`, Completed -> `filled`,
  Canceled -> `cancelled`, Expired -> `expired`, Margin and Rejected -> `rejected`.
  The order id is `bt-<order.ref>`; Market and Close orders are `market`, Limit
  `limit`, Stop and StopTrail `stop`, StopLimit and StopTrailLimit `stop_limit`.
- Fills: each execution bit of a notification becomes an `execution` with the
  bit's time, size, price and commission (`bt-<ref>-<n>`).
- Bars: each bar of each data feed, stamped with its open time: backtrader stamps
  bars at their end, so intraday bars move back by one bar length and daily and
  longer bars are stamped with the session's date at midnight.
- `stop()` sends `run_end` at the last bar's time when `end=True`.
Naive backtrader times are read in `tz` (default UTC) in the order backtrader
produces them (one clock for the strategy, one per data feed): a time the clocks
skipped (a DST gap) raises `ValueError`; a time of a repeated hour (fall back) is
the pass that keeps the clock's times in order, or the first pass where the order
cannot tell. An intraday bar's open is its end minus its length in UTC, so bars
around a DST change keep their real length. Every call is in the exporter's spool
before backtrader continues.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import backtrader as bt

from fillbook_exporter.adapters._time import aware, clock, timeframe, zone
from fillbook_exporter.exporter import Exporter, OrderType, Side
from fillbook_exporter.localtime import LocalClock

STATUSES = {
    bt.Order.Submitted: "new",
    bt.Order.Accepted: "working",
    bt.Order.Partial: "partially_filled",
    bt.Order.Completed: "filled",
    bt.Order.Canceled: "cancelled",
    bt.Order.Expired: "expired",
    bt.Order.Margin: "rejected",
    bt.Order.Rejected: "rejected",
}
ORDER_TYPES: dict[int, OrderType] = {
    bt.Order.Market: "market",
    bt.Order.Close: "market",
    bt.Order.Limit: "limit",
    bt.Order.Stop: "stop",
    bt.Order.StopTrail: "stop",
    bt.Order.StopLimit: "stop_limit",
    bt.Order.StopTrailLimit: "stop_limit",
}
BAR_SECONDS = {bt.TimeFrame.Seconds: 1, bt.TimeFrame.Minutes: 60}


class FillbookAnalyzer(bt.Analyzer):  # type: ignore[misc]  # backtrader is untyped
    """Streams the strategy's orders, fills and bars through `exporter` (see module doc)."""

    params = (
        ("exporter", None),
        ("tz", "UTC"),
        ("bars", True),
        ("end", True),
        ("symbols", None),  # {data name: symbol}; default the data's name
    )

    def start(self) -> None:
        if not isinstance(self.p.exporter, Exporter):
            raise TypeError(f"exporter: expected an Exporter, got {self.p.exporter!r}")
        self.exporter: Exporter = self.p.exporter
        self.zone = zone(self.p.tz)
        self.clock = clock(self.zone)  # the strategy's times: orders, fills, the end
        self.data_clocks: dict[int, LocalClock] = {}  # each feed's bar stamps
        self.fills: dict[int, int] = {}
        self.last_ts: dt.datetime | None = None

    def symbol(self, data: Any) -> str:
        name = str(getattr(data, "_name", "") or f"data{self.strategy.datas.index(data)}")
        symbols: dict[str, str] = self.p.symbols or {}
        return symbols.get(name, name)

    def notify_order(self, order: Any) -> None:
        status = STATUSES.get(order.status)
        if status is None:  # Created: not yet sent anywhere
            return
        symbol = self.symbol(order.data)
        order_id = f"bt-{order.ref}"
        side: Side = "buy" if order.isbuy() else "sell"
        for bit in order.executed.iterpending():
            number = self.fills.get(order.ref, 0)
            self.fills[order.ref] = number + 1
            self.exporter.execution(
                self.time(bt.num2date(bit.dt)), symbol, side, abs(bit.size), bit.price,
                id=f"{order_id}-{number}", order_id=order_id, commission=abs(bit.comm),
            )
        kind = ORDER_TYPES.get(order.exectype, "market")
        created = order.created
        limit_price = stop_price = None
        if kind == "limit":
            limit_price = created.price
        elif kind == "stop":
            stop_price = created.price
        elif kind == "stop_limit":
            stop_price, limit_price = created.price, created.pricelimit
        executed = order.executed
        self.exporter.order(
            order_id, self.time(self.strategy.datetime.datetime(0)), symbol, side, kind,
            abs(created.size), status,
            id=f"{order_id}:{status}:{abs(executed.size):g}",
            limit_price=limit_price or None, stop_price=stop_price or None,
            filled_qty=abs(executed.size) if executed.size else None,
            avg_fill_price=executed.price if executed.size else None,
            parent_id=None if order.parent is None else f"bt-{order.parent.ref}",
        )

    def next(self) -> None:
        self.time(self.strategy.datetime.datetime(0))  # the clock sees every bar's time
        if not self.p.bars:
            return
        for data in self.strategy.datas:
            opened = self.bar_open(data)
            self.last_ts = max(self.last_ts or opened, opened)
            self.exporter.bar(
                self.symbol(data), self.bar_timeframe(data), opened,
                data.open[0], data.high[0], data.low[0], data.close[0], volume=data.volume[0],
            )

    def stop(self) -> None:
        if self.p.end:
            last = self.time(self.strategy.datetime.datetime(0))
            self.exporter.end(last)

    def get_analysis(self) -> dict[str, Any]:
        return {"fills": sum(self.fills.values()), "pending": self.exporter.pending()}

    # -- times ------------------------------------------------------------------------------

    def time(self, when: dt.datetime) -> dt.datetime:
        """A strategy time (UTC), read on the strategy's clock."""
        return self.clock(when)

    def bar_timeframe(self, data: Any) -> str:
        unit = BAR_SECONDS.get(data._timeframe)
        if unit is None:
            if data._timeframe != bt.TimeFrame.Days:
                raise ValueError(f"{self.symbol(data)}: only second, minute and daily bars")
            return f"{data._compression}d"
        return timeframe(unit * data._compression)

    def bar_open(self, data: Any) -> dt.datetime:
        stamp = data.datetime.datetime(0)
        unit = BAR_SECONDS.get(data._timeframe)
        if unit is None:  # daily: the session's date
            return aware(dt.datetime.combine(stamp.date(), dt.time()), self.zone)
        feed_clock = self.data_clocks.setdefault(id(data), clock(self.zone))
        return feed_clock(stamp) - dt.timedelta(seconds=unit * data._compression)
