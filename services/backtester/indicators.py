"""Causal indicators over whole arrays: value `i` uses inputs up to `i` only. Pure numpy/pandas."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]


def sma(values: FloatArray, n: int) -> FloatArray:
    """Simple moving average of the last `n` values; NaN for the first n - 1."""
    result: FloatArray = pd.Series(values).rolling(n).mean().to_numpy(dtype=np.float64)
    return result


def rsi(values: FloatArray, n: int) -> FloatArray:
    """Wilder's relative strength index (smoothing 1/n); NaN until n changes are seen."""
    change = np.diff(values, prepend=np.nan)
    gains = pd.Series(np.clip(change, 0, None))
    losses = pd.Series(np.clip(-change, 0, None))
    avg_gain = gains.ewm(alpha=1 / n, adjust=False, min_periods=n).mean().to_numpy()
    avg_loss = losses.ewm(alpha=1 / n, adjust=False, min_periods=n).mean().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = avg_gain / avg_loss
        out = 100.0 - 100.0 / (1.0 + strength)
    out = np.where((avg_loss == 0) & (avg_gain > 0), 100.0, out)
    out = np.where((avg_loss == 0) & (avg_gain == 0), 50.0, out)
    result: FloatArray = out.astype(np.float64)
    return result


def rolling_max(values: FloatArray, n: int) -> FloatArray:
    """Highest of the last `n` values (this one included); NaN for the first n - 1."""
    result: FloatArray = pd.Series(values).rolling(n).max().to_numpy(dtype=np.float64)
    return result


def rolling_min(values: FloatArray, n: int) -> FloatArray:
    result: FloatArray = pd.Series(values).rolling(n).min().to_numpy(dtype=np.float64)
    return result


def atr(high: FloatArray, low: FloatArray, close: FloatArray, n: int) -> FloatArray:
    """Average true range, Wilder's smoothing; NaN until n true ranges are seen."""
    previous = np.r_[np.nan, close[:-1]]
    ranges = np.vstack([high - low, np.abs(high - previous), np.abs(low - previous)])
    true_range = np.nanmax(ranges, axis=0)
    result: FloatArray = (
        pd.Series(true_range).ewm(alpha=1 / n, adjust=False, min_periods=n).mean().to_numpy()
    )
    return result
