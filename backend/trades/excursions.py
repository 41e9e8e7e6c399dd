"""Maximum favourable and adverse excursion of a trade, from bars. Pure.

Which bars: those of the finest timeframe stored for the symbol whose whole span
lies inside the trade's life, i.e. `entry_ts <= bar.ts` and
`bar.ts + timeframe <= exit_ts` (for an open trade, every bar from the entry on).
The bars the entry and the exit fall into are clipped away: their high and low
may have happened before the entry or after the exit, and a trade must not be
credited with prices it could not have had. The fills themselves are prices the
trade did see, so the entry price and the exit price always count.

Both are price distances from the entry price, never negative:
long:  MFE = max(highest high, exit) - entry;  MAE = entry - min(lowest low, exit)
short: MFE = entry - min(lowest low, exit);    MAE = max(highest high, exit) - entry
In currency they are multiplied by the trade's peak position and the multiplier.
Exit efficiency = the captured move (exit - entry, signed) / MFE; None when MFE is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NS = 1_000_000_000


@dataclass(frozen=True)
class Excursion:
    mfe: float
    mae: float
    efficiency: float | None


def excursion(
    direction: str,
    entry_price: float,
    exit_price: float | None,
    entry_ts: int,
    exit_ts: int | None,
    bar_ts: npt.NDArray[np.int64],
    bar_high: npt.NDArray[np.float64],
    bar_low: npt.NDArray[np.float64],
    timeframe_s: int,
) -> Excursion:
    """MFE/MAE of one trade; `bar_ts` sorted ascending (bar open times, UTC ns)."""
    first = int(np.searchsorted(bar_ts, entry_ts, side="left"))
    if exit_ts is None:
        last = len(bar_ts)
    else:
        last = int(np.searchsorted(bar_ts, exit_ts - timeframe_s * NS, side="right"))
    high = max(float(bar_high[first:last].max()), entry_price) if last > first else entry_price
    low = min(float(bar_low[first:last].min()), entry_price) if last > first else entry_price
    if exit_price is not None:
        high, low = max(high, exit_price), min(low, exit_price)
    if direction == "long":
        mfe, mae = high - entry_price, entry_price - low
        captured = (exit_price - entry_price) if exit_price is not None else None
    else:
        mfe, mae = entry_price - low, high - entry_price
        captured = (entry_price - exit_price) if exit_price is not None else None
    efficiency = captured / mfe if captured is not None and mfe > 0 else None
    return Excursion(mfe=_clean(mfe), mae=_clean(mae), efficiency=efficiency)


def _clean(distance: float) -> float:
    """Round away float noise (prices carry at most 8 decimals)."""
    return round(max(distance, 0.0), 8)
