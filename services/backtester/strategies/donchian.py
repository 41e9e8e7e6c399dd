"""Donchian breakout: stop entries at the channel, each protected by a bracket in ATRs."""

from __future__ import annotations

import math

from services.backtester.candles import Candles
from services.backtester.indicators import atr, rolling_max, rolling_min
from services.backtester.orders import Execution
from services.backtester.registry import register
from services.backtester.strategy import Bar, Context, FloatArray, Parameter, Strategy


@register
class DonchianBreakout(Strategy):
    name = "donchian"
    description = (
        "While flat, a buy stop at the highest high and a sell stop at the lowest low of the "
        "last `channel` candles, re-placed as the channel moves; each entry carries a bracket: "
        "stop-loss `stop_atr` and take-profit `target_atr` ATRs from the channel. When one "
        "entry fills, the other is cancelled; the bracket closes the trade."
    )
    parameters = (
        Parameter("channel", 20, "channel length, candles", minimum=2, maximum=1000, step=5),
        Parameter("atr_period", 14, "ATR length, candles", minimum=2, maximum=500),
        Parameter("stop_atr", 2.0, "stop-loss distance, ATRs", minimum=0.1, maximum=50, step=0.5),
        Parameter("target_atr", 3.0, "take-profit distance, ATRs", minimum=0.1, maximum=50,
                  step=0.5),
        Parameter("qty", 1.0, "contracts per position", minimum=0.0001, maximum=1e6),
    )

    def indicators(self, candles: Candles) -> dict[str, FloatArray]:
        n = int(self.params["channel"])
        return {
            "upper": rolling_max(candles.high, n),
            "lower": rolling_min(candles.low, n),
            "atr": atr(candles.high, candles.low, candles.close, int(self.params["atr_period"])),
        }

    def on_start(self, ctx: Context) -> None:  # noqa: ARG002
        self.levels: tuple[float, float] | None = None

    def on_bar(self, ctx: Context, bar: Bar) -> None:  # noqa: ARG002
        upper, lower, width = ctx.value("upper"), ctx.value("lower"), ctx.value("atr")
        if ctx.position != 0 or math.isnan(upper) or math.isnan(width) or width <= 0:
            return
        if self.levels == (upper, lower) and ctx.working_orders:
            return  # the entries already wait at these levels
        ctx.cancel_all()
        qty = float(self.params["qty"])
        stop = float(self.params["stop_atr"]) * width
        target = float(self.params["target_atr"]) * width
        ctx.buy(qty, order_type="stop", stop_price=upper, stop_loss=upper - stop,
                take_profit=upper + target, tag="breakout long")
        if lower - target > 0:
            ctx.sell(qty, order_type="stop", stop_price=lower, stop_loss=lower + stop,
                     take_profit=lower - target, tag="breakout short")
        self.levels = (upper, lower)

    def on_fill(self, ctx: Context, fill: Execution) -> None:
        if fill.tag and fill.tag.startswith("breakout"):
            for order in ctx.working_orders:  # the other entry, not this entry's bracket legs
                if order.tag and order.tag.startswith("breakout") and order.parent_id is None:
                    ctx.cancel(order.order_id)
        self.levels = None
