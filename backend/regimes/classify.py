"""Rule-based market regimes: trend and volatility tags from OHLC bars. Pure numpy.

For each bar `i` the tags are computed from bars `0..i` only, and hold from the
bar's close time (`ts + timeframe`) until the next bar closes. Every value is a
function of a fixed trailing window of bars, so the tags of a bar do not depend
on where the loaded history starts, once it holds `history_bars(params)` bars.

- ATR: the simple mean of the true range over `atr_window` bars, where the true
  range of bar `i` is `max(high[i], close[i-1]) - min(low[i], close[i-1])`
  (the first bar has no previous close, so no true range).
- Trend: `score = (SMA(close, fast) - SMA(close, slow)) / ATR`; `up` when
  `score > trend_threshold`, `down` when `score < -trend_threshold`, else `range`.
- Volatility: `NATR = ATR / close`, ranked against the `vol_lookback - 1` NATR
  values before it: `rank = (count below + count equal / 2) / (vol_lookback - 1)`;
  `low` when `rank < vol_low`, `high` when `rank > vol_high`, else `normal`.

`docs/regimes.md` is the reference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from backend.market.resample import NS_PER_SECOND

METHOD = "rules"
VERSION = 1

TrendLabel = Literal["down", "range", "up"]
VolatilityLabel = Literal["low", "normal", "high"]
TRENDS: tuple[TrendLabel, TrendLabel, TrendLabel] = ("down", "range", "up")
VOLATILITIES: tuple[VolatilityLabel, VolatilityLabel, VolatilityLabel] = ("low", "normal", "high")
MISSING = -1
"""Code of a tag that needs more history than the bar has."""

IntArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]

# Rows per block when ranking against a trailing window: bounds the temporary
# (rows x window) comparison array.
_RANK_BLOCK = 16_384


class Tag(NamedTuple):
    """The regime at a moment: trend, volatility, and the method (and version) that said so."""

    trend: TrendLabel
    volatility: VolatilityLabel
    method: str
    version: int


@dataclass(frozen=True)
class RuleParams:
    """Parameters of the rule-based method; changing a default means a new `VERSION`."""

    fast: int = 20
    slow: int = 50
    atr_window: int = 14
    trend_threshold: float = 1.5
    vol_lookback: int = 500
    vol_low: float = 0.2
    vol_high: float = 0.8

    def __post_init__(self) -> None:
        for name in ("fast", "slow", "atr_window"):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {name}={value}")
        if self.fast >= self.slow:
            raise ValueError(f"fast must be < slow, got fast={self.fast} slow={self.slow}")
        if self.vol_lookback < 2:
            raise ValueError(f"vol_lookback must be >= 2, got vol_lookback={self.vol_lookback}")
        if self.trend_threshold < 0:
            raise ValueError(f"trend_threshold must be >= 0, got {self.trend_threshold}")
        if not 0 <= self.vol_low <= self.vol_high <= 1:
            raise ValueError(
                "need 0 <= vol_low <= vol_high <= 1, "
                f"got vol_low={self.vol_low} vol_high={self.vol_high}"
            )


@dataclass(frozen=True, eq=False)
class RegimeSeries:
    """Tags per bar; bar `i`'s tags hold for any time `t` with `close_ns[i] <= t`
    until the next bar closes. Codes index `TRENDS` / `VOLATILITIES`; `MISSING`
    (-1) where the bar has too little history."""

    ts_ns: IntArray
    close_ns: IntArray
    trend: CodeArray
    volatility: CodeArray
    timeframe_s: int
    method: str
    version: int
    params: dict[str, Any]

    def __len__(self) -> int:
        return len(self.ts_ns)

    def tag(self, index: int) -> Tag | None:
        """Bar `index`'s tags, None while it has too little history."""
        trend, volatility = int(self.trend[index]), int(self.volatility[index])
        if trend == MISSING or volatility == MISSING:
            return None
        return Tag(TRENDS[trend], VOLATILITIES[volatility], self.method, self.version)


def history_bars(params: RuleParams) -> int:
    """Bars (the current one included) a bar needs before it gets tags."""
    return max(params.slow, params.atr_window + params.vol_lookback)


def classify_series(
    ts_ns: npt.ArrayLike,
    open: npt.ArrayLike,  # noqa: ARG001 - the same signature as every method's
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    timeframe_s: int,
    params: RuleParams | None = None,
) -> RegimeSeries:
    """Trend and volatility tags of each bar of one series, from that bar and earlier ones.

    `ts_ns` are the bars' open times (epoch ns, strictly ascending), `timeframe_s`
    their length. Gaps between bars are not filled: windows count bars, not time.
    """
    params = params or RuleParams()
    ts, (h, lo, c) = check_bars(ts_ns, (high, low, close), timeframe_s)
    atr = true_range_mean(h, lo, c, params.atr_window)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (rolling_mean(c, params.fast) - rolling_mean(c, params.slow)) / atr
        natr = atr / c
    rank = trailing_rank(natr, params.vol_lookback)
    trend = np.full(len(ts), MISSING, dtype=np.int8)
    known = ~np.isnan(score)
    trend[known] = 1 + (score[known] > params.trend_threshold).astype(np.int8)
    trend[known & (score < -params.trend_threshold)] = 0
    volatility = band(rank, params.vol_low, params.vol_high)
    missing = (trend == MISSING) | (volatility == MISSING)
    trend[missing] = MISSING
    volatility[missing] = MISSING
    return RegimeSeries(
        ts_ns=ts,
        close_ns=ts + timeframe_s * NS_PER_SECOND,
        trend=trend,
        volatility=volatility,
        timeframe_s=timeframe_s,
        method=METHOD,
        version=VERSION,
        params=asdict(params),
    )


def tags_at(
    series: RegimeSeries, times_ns: npt.ArrayLike, *, max_age_ns: int | None = None
) -> list[Tag | None]:
    """The tags in effect at each time: those of the last bar with `close <= t`.

    A bar closing exactly at `t` counts as closed. None before any bar closed,
    while that bar had too little history, or when it closed more than
    `max_age_ns` before `t` (no limit by default). Times need not be sorted.
    """
    times = np.asarray(times_ns, dtype=np.int64).reshape(-1)
    index = np.searchsorted(series.close_ns, times, side="right") - 1
    usable = index >= 0
    if max_age_ns is not None:
        age = times - series.close_ns[np.maximum(index, 0)]
        usable &= age <= max_age_ns
    cache: dict[int, Tag | None] = {}
    tags: list[Tag | None] = []
    for position, ok in zip(index.tolist(), usable.tolist(), strict=True):
        if not ok:
            tags.append(None)
            continue
        if position not in cache:
            cache[position] = series.tag(position)
        tags.append(cache[position])
    return tags


# -- building blocks, shared with the learned method -----------------------------------


def check_bars(
    ts_ns: npt.ArrayLike, values: tuple[npt.ArrayLike, ...], timeframe_s: int
) -> tuple[IntArray, list[FloatArray]]:
    """`ts_ns` as int64 and `values` as float64 arrays, checked to match and be ordered."""
    if isinstance(timeframe_s, bool) or not isinstance(timeframe_s, int) or timeframe_s <= 0:
        raise ValueError(f"timeframe_s must be a positive integer, got {timeframe_s!r}")
    ts = np.asarray(ts_ns, dtype=np.int64)
    if ts.ndim != 1:
        raise ValueError(f"ts_ns must be one-dimensional, got shape {ts.shape}")
    arrays = [np.asarray(value, dtype=np.float64) for value in values]
    for array in arrays:
        if array.shape != ts.shape:
            raise ValueError(f"prices must have the shape of ts_ns {ts.shape}, got {array.shape}")
    if len(ts) > 1 and np.any(ts[1:] <= ts[:-1]):
        first = int(np.flatnonzero(ts[1:] <= ts[:-1])[0])
        raise ValueError(
            "ts_ns must be strictly ascending, got "
            f"ts_ns[{first}]={int(ts[first])} >= ts_ns[{first + 1}]={int(ts[first + 1])}"
        )
    return ts, arrays


def rolling_mean(values: FloatArray, window: int) -> FloatArray:
    """Mean of each trailing `window` values (NaN for the first `window - 1`)."""
    out = np.full(len(values), np.nan)
    if len(values) >= window:
        # Per-window reduction, not a running sum: a value depends on its window only.
        out[window - 1 :] = sliding_window_view(values, window).mean(axis=1)
    return out


def rolling_std(values: FloatArray, window: int) -> FloatArray:
    """Sample standard deviation (ddof=1) of each trailing `window` values."""
    out = np.full(len(values), np.nan)
    if len(values) >= window:
        out[window - 1 :] = sliding_window_view(values, window).std(axis=1, ddof=1)
    return out


def true_range_mean(
    high: FloatArray, low: FloatArray, close: FloatArray, window: int
) -> FloatArray:
    """ATR: the simple mean of `window` true ranges; the first bar has none (NaN)."""
    true_range = np.full(len(close), np.nan)
    if len(close) > 1:
        previous = close[:-1]
        true_range[1:] = np.maximum(high[1:], previous) - np.minimum(low[1:], previous)
    return rolling_mean(true_range, window)


def trailing_rank(values: FloatArray, lookback: int) -> FloatArray:
    """Mid-rank of each value among the `lookback - 1` values before it, in [0, 1].

    `(count below + count equal / 2) / (lookback - 1)`; NaN unless all `lookback`
    values are known.
    """
    out = np.full(len(values), np.nan)
    if len(values) < lookback:
        return out
    windows = sliding_window_view(values, lookback)
    for first in range(0, len(windows), _RANK_BLOCK):
        block = windows[first : first + _RANK_BLOCK]
        current = block[:, -1:]
        earlier = block[:, :-1]
        below = (earlier < current).sum(axis=1)
        equal = (earlier == current).sum(axis=1)
        rank = (below + 0.5 * equal) / (lookback - 1)
        rank[np.isnan(block).any(axis=1)] = np.nan
        out[lookback - 1 + first : lookback - 1 + first + len(block)] = rank
    return out


def band(values: FloatArray, low: float, high: float) -> CodeArray:
    """Codes 0 (`< low`), 1, 2 (`> high`); `MISSING` where NaN."""
    codes = np.full(len(values), MISSING, dtype=np.int8)
    known = ~np.isnan(values)
    codes[known] = 1
    codes[known & (values < low)] = 0
    codes[known & (values > high)] = 2
    return codes
