"""Moving-average cross: long when the fast average crosses above the slow one, short below."""

from __future__ import annotations

from services.backtester.candles import Candles
from services.backtester.indicators import sma
from services.backtester.registry import register
from services.backtester.strategy import Bar, Context, FloatArray, Parameter, Strategy


@register
class MovingAverageCross(Strategy):
    name = "ma_cross"
    description = (
        "Simple moving averages of the close: when the fast one crosses above the slow one, "
        "go long `qty`; when it crosses below, go short (or flat with long_only). Market "
        "orders at the candle's close, filled at the next candle's open."
    )
    parameters = (
        Parameter("fast", 10, "fast average length, candles", minimum=1, maximum=500, step=5),
        Parameter("slow", 30, "slow average length, candles", minimum=2, maximum=2000, step=10),
        Parameter("qty", 1.0, "contracts per position", minimum=0.0001, maximum=1e6),
        Parameter("long_only", False, "go flat instead of short on a cross down"),
    )

    def check(self) -> None:
        if int(self.params["fast"]) >= int(self.params["slow"]):
            raise ValueError(
                f"fast must be shorter than slow, got fast={self.params['fast']} "
                f"slow={self.params['slow']}"
            )

    def indicators(self, candles: Candles) -> dict[str, FloatArray]:
        return {
            "sma_fast": sma(candles.close, int(self.params["fast"])),
            "sma_slow": sma(candles.close, int(self.params["slow"])),
        }

    def on_bar(self, ctx: Context, bar: Bar) -> None:  # noqa: ARG002
        fast, slow = ctx.value("sma_fast"), ctx.value("sma_slow")
        fast_before, slow_before = ctx.value("sma_fast", 1), ctx.value("sma_slow", 1)
        qty = float(self.params["qty"])
        if fast_before < slow_before and fast > slow:
            ctx.target_position(qty, tag="cross up")
        elif fast_before > slow_before and fast < slow:
            ctx.target_position(0.0 if self.params["long_only"] else -qty, tag="cross down")
