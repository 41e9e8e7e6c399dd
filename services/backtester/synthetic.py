"""Synthetic 1-second bars: a random walk with realistic ranges and volumes (tests, bench)."""

from __future__ import annotations

import numpy as np

from services.backtester.data import NS_PER_SECOND, Seconds

START_NS = 1_700_006_400 * NS_PER_SECOND  # 2023-11-15 00:00:00 UTC


def random_walk(
    count: int,
    *,
    seed: int = 7,
    start_ns: int = START_NS,
    price: float = 4500.0,
    tick: float = 0.25,
    step_ticks: float = 1.0,
) -> Seconds:
    """`count` consecutive 1-second bars on a tick grid; prices stay positive."""
    rng = np.random.default_rng(seed)
    moves = np.round(rng.normal(0.0, step_ticks, count)) * tick
    close = price + np.cumsum(moves)
    close = np.maximum(close, tick * 10)
    open_ = np.r_[price, close[:-1]]
    wick_up = np.round(np.abs(rng.normal(0.0, step_ticks / 2, count))) * tick
    wick_down = np.round(np.abs(rng.normal(0.0, step_ticks / 2, count))) * tick
    high = np.maximum(open_, close) + wick_up
    low = np.maximum(np.minimum(open_, close) - wick_down, tick)
    volume = rng.integers(1, 50, count).astype(np.float64)
    ts = start_ns + np.arange(count, dtype=np.int64) * NS_PER_SECOND
    return Seconds(ts, open_, high, low, close, volume)
