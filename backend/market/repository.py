"""Every query of the market feature: a user's bar series and their bars, oldest first."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from backend.db.engine import driver_rows
from backend.db.models.bar import MarketBar, MarketSeries

BAR_COLUMNS = ("ts", "open", "high", "low", "close", "volume", "bid_volume", "ask_volume")


def series_by_timeframe(session: Session, user_id: int, symbol: str) -> dict[int, int]:
    """The user's market series of `symbol`: timeframe in seconds → series id."""
    rows = session.execute(
        select(MarketSeries.timeframe_s, MarketSeries.id).where(
            MarketSeries.user_id == user_id, MarketSeries.symbol == symbol
        )
    )
    return {int(timeframe_s): int(series_id) for timeframe_s, series_id in rows}


def _bars(series_id: int, start: int | None, end: int | None) -> Select[Any]:
    query = select(*(getattr(MarketBar, name) for name in BAR_COLUMNS)).where(
        MarketBar.series_id == series_id
    )
    if start is not None:
        query = query.where(MarketBar.ts >= start)
    if end is not None:
        query = query.where(MarketBar.ts < end)
    return query.order_by(MarketBar.ts)


def list_bars(
    session: Session, series_id: int, start: int | None, end: int | None, limit: int
) -> Sequence[tuple[Any, ...]]:
    """Up to `limit` bars of a series with `start <= ts < end`, as `BAR_COLUMNS` tuples."""
    return session.connection().execute(_bars(series_id, start, end).limit(limit)).all()


def stream_bars(
    session: Session, series_id: int, start: int | None, end: int | None, chunk: int
) -> Iterator[Sequence[tuple[Any, ...]]]:
    """The bars of a series with `start <= ts < end` in chunks of up to `chunk` rows.

    Streamed (a server-side cursor on PostgreSQL), so a caller that stops early
    reads no further.
    """
    # Core, not the ORM: plain rows, without the ORM's per-row loading work.
    # Options on this statement only: Connection.execution_options() would change the
    # session's connection for good, sending its later INSERTs through a server cursor.
    result = session.connection().execute(
        _bars(series_id, start, end), execution_options={"yield_per": chunk}
    )
    try:
        yield from result.partitions()
    finally:
        result.close()


def price_arrays(
    session: Session, series_id: int, start: int | None, end: int | None
) -> tuple[Any, Any, Any, Any, Any]:
    """`ts`, `open`, `high`, `low`, `close` of the bars with `start <= ts < end`, as arrays."""
    sql = "SELECT ts, open, high, low, close FROM market_bar WHERE series_id = ?"
    params: list[int] = [series_id]
    if start is not None:
        sql, params = sql + " AND ts >= ?", [*params, start]
    if end is not None:
        sql, params = sql + " AND ts < ?", [*params, end]
    rows = driver_rows(session, sql + " ORDER BY ts", params)
    ts = np.fromiter(map(itemgetter(0), rows), dtype=np.int64, count=len(rows))
    prices = np.array(rows, dtype=np.float64).reshape(len(rows), 5)[:, 1:]
    return ts, prices[:, 0], prices[:, 1], prices[:, 2], prices[:, 3]


def last_close(session: Session, series_id: int) -> float | None:
    """The close of a series' latest bar."""
    value = session.scalar(
        select(MarketBar.close)
        .where(MarketBar.series_id == series_id)
        .order_by(MarketBar.ts.desc())
        .limit(1)
    )
    return None if value is None else float(value)
