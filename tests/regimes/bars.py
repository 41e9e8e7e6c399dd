"""Synthetic OHLC series for the regime tests."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

NS = 1_000_000_000
FIVE_MINUTES = 300
# 2023-11-16T02:00:00Z: the start of a refit period of the learned method on 5m bars.
T0 = 1_700_100_000 * NS


class Bars(NamedTuple):
    ts: npt.NDArray[np.int64]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]

    def head(self, count: int) -> Bars:
        return self.slice(0, count)

    def tail(self, first: int) -> Bars:
        return self.slice(first, None)

    def slice(self, start: int, stop: int | None) -> Bars:
        return Bars(
            self.ts[start:stop],
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
        )


def bars_from_closes(
    closes: npt.ArrayLike,
    *,
    wick: float | npt.ArrayLike = 0.5,
    start: int = T0,
    timeframe_s: int = FIVE_MINUTES,
) -> Bars:
    """Bar i opens at close i-1 (its own close for i = 0), wicks `wick` beyond open and close."""
    close = np.asarray(closes, dtype=np.float64)
    open_ = np.r_[close[:1], close[:-1]]
    wicks = np.broadcast_to(np.asarray(wick, dtype=np.float64), close.shape)
    ts = start + np.arange(len(close), dtype=np.int64) * timeframe_s * NS
    return Bars(
        ts, open_, np.maximum(open_, close) + wicks, np.minimum(open_, close) - wicks, close
    )


def random_walk(count: int, *, seed: int, start: int = T0) -> Bars:
    """Log-normal random walk around 4000 with random wicks."""
    rng = np.random.default_rng(seed)
    close = 4000 * np.exp(np.cumsum(rng.normal(0, 0.001, count)))
    return bars_from_closes(close, wick=rng.uniform(0.1, 3.0, count), start=start)


def regime_blocks(blocks: int, size: int, *, seed: int) -> tuple[Bars, npt.NDArray[np.int64]]:
    """Repeated blocks of calm up, volatile flat, calm down, calm flat (block kinds 0..3)."""
    rng = np.random.default_rng(seed)
    drift_vol = [(0.0004, 0.0005), (0.0, 0.002), (-0.0004, 0.0005), (0.0, 0.0005)]
    returns = np.concatenate(
        [rng.normal(drift, vol, size) for _ in range(blocks) for drift, vol in drift_vol]
    )
    close = 4000 * np.exp(np.cumsum(returns))
    kinds = np.tile(np.repeat(np.arange(4), size), blocks)
    return bars_from_closes(close, wick=close * 0.0002), kinds
