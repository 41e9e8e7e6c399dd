"""RSI mean reversion: buy oversold, sell overbought, exit when the RSI returns to the middle."""

from __future__ import annotations

import math

from services.backtester.candles import Candles
from services.backtester.indicators import rsi
from services.backtester.registry import register
from services.backtester.strategy import Bar, Context, FloatArray, Parameter, Strategy


@register
class RsiReversion(Strategy):
    name = "rsi_reversion"
    description = (
        "Wilder's RSI of the close: go long below `oversold`, short above `overbought`, and "
        "close when the RSI crosses back through `exit_level`. Entries are limit orders at "
        "the candle's close, good for one candle (GTD); exits are market orders."
    )
    parameters = (
        Parameter("period", 14, "RSI length, candles", minimum=2, maximum=500, step=2),
        Parameter("oversold", 30.0, "long entry level", minimum=1, maximum=50, step=5),
        Parameter("overbought", 70.0, "short entry level", minimum=50, maximum=99, step=5),
        Parameter("exit_level", 50.0, "exit when the RSI reaches it", minimum=1, maximum=99),
        Parameter("qty", 1.0, "contracts per position", minimum=0.0001, maximum=1e6),
    )

    def check(self) -> None:
        low, middle, high = (float(self.params[name])
                             for name in ("oversold", "exit_level", "overbought"))
        if not low <= middle <= high:
            raise ValueError(
                "oversold <= exit_level <= overbought expected, got "
                f"oversold={low} exit_level={middle} overbought={high}"
            )

    def indicators(self, candles: Candles) -> dict[str, FloatArray]:
        return {"rsi": rsi(candles.close, int(self.params["period"]))}

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        value = ctx.value("rsi")
        if math.isnan(value):
            return
        qty = float(self.params["qty"])
        expiry = bar.ts + 2 * ctx.candles.interval_ns  # the end of the next candle
        if ctx.position > 0 and value >= float(self.params["exit_level"]):
            ctx.flatten()
        elif ctx.position < 0 and value <= float(self.params["exit_level"]):
            ctx.flatten()
        elif ctx.position == 0 and not ctx.working_orders:
            if value < float(self.params["oversold"]):
                ctx.buy(qty, order_type="limit", limit_price=bar.close, tif="gtd",
                        expire_ts=expiry, tag="oversold")
            elif value > float(self.params["overbought"]):
                ctx.sell(qty, order_type="limit", limit_price=bar.close, tif="gtd",
                         expire_ts=expiry, tag="overbought")
