"""Regimes from a user's stored bars: the timeline per symbol, and the tags at trade entries.

Bars come from `backend.market` (stored, or aggregated from a finer stored
timeframe). Before the span asked for, enough history is read for the tags to
be the same as with all of it: first a margin before the span; if fewer bars
than the method needs closed in it, everything stored before the span.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy.orm import Session

from backend.api.params import query_window
from backend.errors import InvalidPayload, NotFound
from backend.ingest.timestamps import format_ts
from backend.market import repository
from backend.market import service as market
from backend.market.resample import NS_PER_SECOND
from backend.market.timeframes import format_timeframe
from backend.regimes.classify import RegimeSeries, Tag, tags_at
from backend.regimes.methods import METHODS, Method
from backend.regimes.schemas import RegimeTimelineRead, SegmentRead, TimelineParams
from backend.regimes.timeline import segments

REGIME_TIMEFRAMES = (300, 900, 1800, 3600)
"""Trade entries are tagged on the first of these (5m, 15m, 30m, 1h) that a stored timeframe
divides; else on the coarsest stored timeframe up to 1h; else on the finest stored one."""
MAX_TIMELINE_BARS = 200_000
"""Most bars, warm-up included, one timeline request classifies."""
_UNLIMITED = 2**62
# The first read reaches back twice the history in bars, plus a long weekend for gaps.
_GAP_ALLOWANCE_NS = 4 * 86_400 * NS_PER_SECOND


def timeline(session: Session, user_id: int, params: TimelineParams) -> RegimeTimelineRead:
    """The user's regime segments of a symbol at a timeframe, within `start`..`end`."""
    timeframe_s, start, end = query_window(params.timeframe, params.start, params.end)
    method = METHODS[params.method]
    series = repository.series_by_timeframe(session, user_id, params.symbol)
    if not series:
        raise NotFound(f"symbol: no bars of {params.symbol!r} are stored")
    page, regimes = _classify(
        session, series, params.symbol, timeframe_s, method, start, end, MAX_TIMELINE_BARS
    )
    return RegimeTimelineRead(
        symbol=params.symbol,
        timeframe=format_timeframe(timeframe_s),
        source_timeframe=format_timeframe(page.source_timeframe_s),
        method=method.name,
        version=method.version,
        params=regimes.params,
        segments=[
            SegmentRead(
                start=format_ts(segment.start_ns),
                end=None if segment.end_ns is None else format_ts(segment.end_ns),
                trend=segment.trend,
                volatility=segment.volatility,
            )
            for segment in segments(regimes, start, end)
        ],
    )


def regime_at_entries(
    session: Session,
    user_id: int,
    symbol: str,
    entry_times_ns: Sequence[int],
    method: str = "rules",
) -> list[Tag | None]:
    """The regime tags in effect at each entry time (epoch ns), from bars closed by then.

    Classifies the user's bars of `symbol` at `regime_timeframe(...)`, read once
    for all entries. None for an entry before enough bars closed, and for every
    entry when the symbol has no bars. InvalidPayload for an unknown `method`.
    """
    chosen = METHODS.get(method)
    if chosen is None:
        names = ", ".join(map(repr, METHODS))
        raise InvalidPayload(f"method: must be one of {names}, got {method!r}")
    if not entry_times_ns:
        return []
    series = repository.series_by_timeframe(session, user_id, symbol)
    if not series:
        return [None] * len(entry_times_ns)
    times = np.asarray(entry_times_ns, dtype=np.int64)
    timeframe_s = regime_timeframe(series)
    first, last = int(times.min()), int(times.max())
    # Bars opening at or after the last entry close after it: never needed.
    _page, regimes = _classify(
        session, series, symbol, timeframe_s, chosen, first, last, _UNLIMITED
    )
    return tags_at(regimes, times)


def regime_timeframe(stored: Iterable[int]) -> int:
    """The timeframe (seconds) trade entries are tagged on, given the stored timeframes."""
    stored = sorted(stored)
    if not stored:
        raise ValueError("no stored timeframes to choose from")
    for timeframe_s in REGIME_TIMEFRAMES:
        if any(timeframe_s % source_s == 0 for source_s in stored):
            return timeframe_s
    intraday = [source_s for source_s in stored if source_s <= REGIME_TIMEFRAMES[-1]]
    return intraday[-1] if intraday else stored[0]


def _classify(
    session: Session,
    series: dict[int, int],
    symbol: str,
    timeframe_s: int,
    method: Method,
    since: int | None,
    end: int | None,
    limit: int,
) -> tuple[market.BarsPage, RegimeSeries]:
    """Bars opening before `end` with enough history for exact tags from `since` on, classified."""
    margin = 2 * method.history_bars * timeframe_s * NS_PER_SECOND + _GAP_ALLOWANCE_NS
    read_from = None if since is None else max(0, since - margin)
    page = _read(session, series, symbol, timeframe_s, read_from, end, limit)
    if since is not None and not _enough_history(page, method, since):
        page = _read(session, series, symbol, timeframe_s, None, end, limit)
    return page, method.classify(page.columns, timeframe_s, since)


def _read(
    session: Session,
    series: dict[int, int],
    symbol: str,
    timeframe_s: int,
    start: int | None,
    end: int | None,
    limit: int,
) -> market.BarsPage:
    query = market.BarsQuery(symbol, timeframe_s, start, end, limit)
    page = market.read_bars(session, series, query)
    if page.next_start is not None:
        raise InvalidPayload(
            f"start: the timeline classifies at most {limit} {format_timeframe(timeframe_s)} "
            "bars, warm-up included, and this span holds more; narrow start..end or choose a "
            "coarser timeframe"
        )
    return page


def _enough_history(page: market.BarsPage, method: Method, since: int) -> bool:
    """Whether the bar in effect at `since` has the history its method needs in `page`."""
    close_ns = page.columns["ts"] + page.timeframe_s * NS_PER_SECOND
    in_effect = int(np.searchsorted(close_ns, since, side="right")) - 1
    if in_effect < 0:
        return False
    anchor = method.anchor(int(close_ns[in_effect]), page.timeframe_s)
    return int(np.searchsorted(close_ns, anchor, side="right")) >= method.history_bars
