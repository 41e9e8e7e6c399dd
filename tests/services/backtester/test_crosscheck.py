"""The backtester against backtesting.py (kernc) on the same candles: the same trades.

The strategy trades at the candle's close with market orders: a cross of two
simple moving averages reverses the position with one order. backtesting.py
fills such an order at the next bar's open; here it fills at the open of the
next candle's first 1-second bar, which is the candle's open. With
`hedging=False` and `exclusive_orders=False`, backtesting.py closes the old
trade and opens the new one with that single order, as our flat-to-flat
reconstruction splits a fill that crosses zero. So trade for trade, entry and
exit times, prices and sizes must be equal; the last trade, still open, is left
out by both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest as ReferenceBacktest
from backtesting import Strategy as ReferenceStrategy
from backtesting.lib import crossover

from services.backtester.candles import make_candles
from services.backtester.engine import Backtest, BacktestConfig
from services.backtester.indicators import sma
from services.backtester.sinks import Instrument
from services.backtester.synthetic import random_walk

pytestmark = pytest.mark.filterwarnings(
    "ignore:DatetimeIndex.dayofweek is deprecated",
    "ignore:Some trades remain open",
    "ignore:Data index is not sorted",
)

FAST, SLOW, QTY = 8, 21, 3


class SmaCross(ReferenceStrategy):  # type: ignore[misc]
    def init(self) -> None:
        self.fast = self.I(sma, self.data.Close, FAST)
        self.slow = self.I(sma, self.data.Close, SLOW)

    def next(self) -> None:
        held = abs(self.position.size)
        if crossover(self.fast, self.slow):
            self.buy(size=QTY + held)
        elif crossover(self.slow, self.fast):
            self.sell(size=QTY + held)


def reference_trades(frame: pd.DataFrame) -> Any:
    test = ReferenceBacktest(frame, SmaCross, cash=1e9, commission=0.0)
    stats = test.run()
    return stats["_trades"]


@pytest.mark.parametrize(
    ("interval", "seed", "count"), [("5m", 1, 150_000), ("1m", 2, 100_000), ("15m", 3, 600_000)]
)
def test_trades_equal_backtesting_py(interval: str, seed: int, count: int) -> None:
    bars = random_walk(count, seed=seed)
    candles = make_candles(bars, interval)
    frame = pd.DataFrame(
        {
            "Open": candles.open,
            "High": candles.high,
            "Low": candles.low,
            "Close": candles.close,
            "Volume": candles.volume,
        },
        index=pd.to_datetime(candles.ts, unit="ns"),
    )
    expected = reference_trades(frame)

    config = BacktestConfig(
        "ma_cross", {"fast": FAST, "slow": SLOW, "qty": QTY}, interval,
        Instrument("SYNTH", 1.0, 0.25),
    )
    result = Backtest(bars, config).run()
    ours = result.closed_trades

    assert len(expected) >= 10
    assert len(ours) == len(expected)
    for trade, (_, row) in zip(ours, expected.iterrows(), strict=True):
        assert pd.Timestamp(trade.entry_ts, unit="ns") == row["EntryTime"]
        assert trade.exit_ts is not None
        assert pd.Timestamp(trade.exit_ts, unit="ns") == row["ExitTime"]
        assert float(trade.entry_price) == pytest.approx(row["EntryPrice"], abs=1e-9)
        assert float(trade.exit_price or 0) == pytest.approx(row["ExitPrice"], abs=1e-9)
        assert float(trade.qty) == abs(row["Size"])
        assert (trade.direction == "long") == (row["Size"] > 0)
        assert float(trade.net_pnl) == pytest.approx(row["PnL"], abs=1e-6)
    total = float(np.sum(expected["PnL"]))
    assert result.metrics["net_pnl"] == pytest.approx(total, abs=1e-6)
