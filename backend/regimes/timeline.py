"""A regime series as a timeline: runs of bars with the same tags, as time spans. Pure."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from backend.regimes.classify import (
    MISSING,
    TRENDS,
    VOLATILITIES,
    RegimeSeries,
    TrendLabel,
    VolatilityLabel,
)


class Segment(NamedTuple):
    """Tags in effect over `[start_ns, end_ns)`; `end_ns` None: until the next bar closes."""

    start_ns: int
    end_ns: int | None
    trend: TrendLabel
    volatility: VolatilityLabel


def segments(
    series: RegimeSeries, start_ns: int | None = None, end_ns: int | None = None
) -> list[Segment]:
    """Consecutive bars with the same tags, merged, as the spans their tags hold over.

    Bar `i`'s tags hold from its close to the next bar's close, so a run of bars
    `a..b` covers `[close[a], close[b + 1])`, and an entry at any time in a
    segment is tagged with that segment's tags. The last run is open-ended
    (`end_ns` None) unless `end_ns` is given. Spans are clipped to
    `[start_ns, end_ns)`; bars without tags (too little history) make no segment.
    """
    count = len(series)
    if count == 0:
        return []
    codes = series.trend.astype(np.int16) * len(VOLATILITIES) + series.volatility
    codes[(series.trend == MISSING) | (series.volatility == MISSING)] = MISSING
    firsts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[firsts[1:], count]
    close = series.close_ns.tolist()
    result: list[Segment] = []
    for first, after in zip(firsts.tolist(), ends.tolist(), strict=True):
        code = int(codes[first])
        if code == MISSING:
            continue
        start = close[first] if start_ns is None else max(close[first], start_ns)
        end = close[after] if after < count else None
        if end_ns is not None:
            end = end_ns if end is None else min(end, end_ns)
        if end is not None and end <= start:
            continue
        trend, volatility = divmod(code, len(VOLATILITIES))
        result.append(Segment(start, end, TRENDS[trend], VOLATILITIES[volatility]))
    return result
