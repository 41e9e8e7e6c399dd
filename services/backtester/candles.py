"""Candles of any interval from 1-second bars, through the backend's own resampler.

`backend.market.resample` is imported, not copied, so `GET /api/bars` and the
backtester build identical candles from the same 1-second bars. Each candle
also knows which 1-second bars it holds (`first`, `stop`), which is what the
matching engine searches while orders work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from backend.market.resample import bucket_offsets, resample
from backend.market.timeframes import parse_timeframe
from services.backtester.data import NS_PER_SECOND, Seconds

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class Candles:
    """Candles as columns; candle `i` holds seconds `first[i]:stop[i]`."""

    interval_s: int
    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    first: IntArray
    stop: IntArray

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def interval_ns(self) -> int:
        return self.interval_s * NS_PER_SECOND


def make_candles(seconds: Seconds, interval: str | int) -> Candles:
    """Resample 1-second bars to `interval` (`"5m"` or seconds), epoch-aligned."""
    interval_s = parse_timeframe(interval) if isinstance(interval, str) else int(interval)
    out = resample(
        seconds.ts,
        seconds.open,
        seconds.high,
        seconds.low,
        seconds.close,
        seconds.volume,
        interval_s,
    )
    first = bucket_offsets(seconds.ts, interval_s)
    stop = np.r_[first[1:], len(seconds)].astype(np.int64)
    return Candles(
        interval_s=interval_s,
        ts=out["ts"],
        open=out["open"],
        high=out["high"],
        low=out["low"],
        close=out["close"],
        volume=out["volume"],
        first=first.astype(np.int64),
        stop=stop,
    )
