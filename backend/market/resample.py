"""Resampling OHLCV bars to a coarser timeframe: pure numpy, one pass, no loop per bar.

Buckets are aligned to the UTC epoch: a bar stamped `ts` (its open time, epoch ns)
falls in the bucket that opens at `ts - ts % target_ns`. So `5m` buckets open at
:00, :05, ...; `1h` on the hour; `1d` at 00:00 UTC (UTC days). A multi-day
timeframe such as `7d` counts whole days from 1970-01-01 (a Thursday), not weeks.

Per bucket: `open` is the first bar's open, `high` the highest high, `low` the
lowest low, `close` the last bar's close. Volumes (`volume`, `bid_volume`,
`ask_volume`) may be missing per bar (NaN, or None in an object array): a
bucket's volume is the sum of the values present, and missing (NaN) only when
no bar of the bucket has one. Buckets without bars are not emitted (no
forward-filling), so gaps stay gaps.

Example, 1-second bars to 5 minutes::

    out = resample(ts, o, h, l, c, v, 300)
    out["ts"], out["open"], out["high"], out["low"], out["close"], out["volume"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

NS_PER_SECOND = 1_000_000_000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike
# Volumes may be missing per bar: NaN, or None in a list or object array.
VolumeLike = npt.ArrayLike | Sequence[float | None]

Columns = dict[str, npt.NDArray[Any]]
"""Named equal-length columns: `ts` (int64 epoch ns) and float64 prices and volumes."""

PRICE_FIELDS = ("open", "high", "low", "close")
VOLUME_FIELDS = ("volume", "bid_volume", "ask_volume")
_EMPTY_INT: IntArray = np.empty(0, dtype=np.int64)


def bucket_starts(ts_ns: ArrayLike, target_seconds: int) -> IntArray:
    """The open time (epoch ns) of the epoch-aligned bucket of each `ts_ns`."""
    ts = np.asarray(ts_ns, dtype=np.int64)
    target_ns = _target_ns(target_seconds)
    result: IntArray = ts - ts % target_ns
    return result


def bucket_offsets(ts_ns: ArrayLike, target_seconds: int) -> IntArray:
    """Where each bucket begins in sorted `ts_ns`: the index of its first bar.

    Bucket `k` holds the bars `ts_ns[offsets[k]:offsets[k + 1]]` (the last one runs
    to the end), the same buckets `resample` emits, in the same order. The
    backtester uses this to find the 1-second bars inside each candle.
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    if not len(ts):
        return _EMPTY_INT
    buckets = bucket_starts(ts, target_seconds)
    # Sorted input: a bucket starts where the bucket id changes.
    offsets: IntArray = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    return offsets


def resample(
    ts_ns: ArrayLike,
    open: ArrayLike,
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    volume: VolumeLike | None,
    target_seconds: int,
    *,
    bid_volume: VolumeLike | None = None,
    ask_volume: VolumeLike | None = None,
) -> Columns:
    """Aggregate bars sorted by `ts_ns` into epoch-aligned buckets of `target_seconds`.

    Returns a dict of equal-length arrays, one row per bucket that holds at least
    one bar, in time order: `ts` (int64 epoch ns, the bucket's open time),
    `open`, `high`, `low`, `close`, `volume` (float64; `volume` is all NaN when
    None was given), plus `bid_volume` and `ask_volume` when they were given.

    Raises ValueError when the arrays differ in length, `ts_ns` is not sorted
    ascending, or `target_seconds` is not a positive whole number.
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    if ts.ndim != 1:
        raise ValueError(f"ts_ns must be one-dimensional, got shape {ts.shape}")
    count = len(ts)
    prices = {
        name: _floats(name, values, count)
        for name, values in zip(PRICE_FIELDS, (open, high, low, close), strict=True)
    }
    volumes = {
        name: _floats(name, values, count)
        for name, values in zip(VOLUME_FIELDS, (volume, bid_volume, ask_volume), strict=True)
        if values is not None
    }
    if count and np.any(ts[1:] < ts[:-1]):
        first = int(np.flatnonzero(ts[1:] < ts[:-1])[0])
        raise ValueError(
            "ts_ns must be sorted ascending, got "
            f"ts_ns[{first}]={int(ts[first])} > ts_ns[{first + 1}]={int(ts[first + 1])}"
        )

    starts = bucket_offsets(ts, target_seconds)
    ends = np.r_[starts[1:], count] - 1 if count else _EMPTY_INT

    out: Columns = {"ts": bucket_starts(ts[starts], target_seconds)}
    if count:
        out["open"] = prices["open"][starts]
        out["high"] = np.maximum.reduceat(prices["high"], starts)
        out["low"] = np.minimum.reduceat(prices["low"], starts)
        out["close"] = prices["close"][ends]
    else:
        out.update({name: np.empty(0, dtype=np.float64) for name in PRICE_FIELDS})
    for name in VOLUME_FIELDS:
        if name in volumes:
            out[name] = _sum_present(volumes[name], starts)
        elif name == "volume":
            out[name] = np.full(len(starts), np.nan)
    return out


def _target_ns(target_seconds: int) -> int:
    if (
        isinstance(target_seconds, bool)
        or not isinstance(target_seconds, int | np.integer)
        or target_seconds <= 0
    ):
        raise ValueError(f"target_seconds must be a positive integer, got {target_seconds!r}")
    return int(target_seconds) * NS_PER_SECOND


def _floats(name: str, values: VolumeLike, count: int) -> FloatArray:
    # dtype=float turns None (missing volume in an object array) into NaN.
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (count,):
        raise ValueError(f"{name} must have the shape of ts_ns ({count},), got {array.shape}")
    return array


def _sum_present(values: FloatArray, starts: IntArray) -> FloatArray:
    """Per-bucket sum of the non-NaN values; NaN where a bucket has none."""
    if not len(starts):
        return np.empty(0, dtype=np.float64)
    present = ~np.isnan(values)
    sums: FloatArray = np.add.reduceat(np.where(present, values, 0.0), starts)
    counts = np.add.reduceat(present.astype(np.int64), starts)
    sums[counts == 0] = np.nan
    return sums
