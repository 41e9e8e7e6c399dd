"""Every query of the backtests feature."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from backend.db.models import (
    Backtest,
    Instrument,
    MarketSeries,
    Strategy,
    StrategyRun,
    Trade,
)


def get(session: Session, user_id: int, backtest_id: int) -> Backtest | None:
    return session.scalar(
        select(Backtest).where(Backtest.id == backtest_id, Backtest.user_id == user_id)
    )


def get_any(session: Session, backtest_id: int) -> Backtest | None:
    return session.get(Backtest, backtest_id)


def count_active(session: Session, user_id: int) -> int:
    """The user's backtests still queued or running."""
    query = select(func.count()).where(
        Backtest.user_id == user_id, Backtest.status.in_(("queued", "running"))
    )
    return int(session.scalar(query) or 0)


def list_for_user(session: Session, user_id: int, limit: int) -> Sequence[Backtest]:
    query = (
        select(Backtest)
        .where(Backtest.user_id == user_id)
        .order_by(Backtest.created_at.desc(), Backtest.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def unfinished(session: Session, *, stale_before: dt.datetime) -> Sequence[Backtest]:
    """Queued or running backtests whose heartbeat is older than `stale_before`."""
    query = select(Backtest).where(
        Backtest.status.in_(("queued", "running")), Backtest.updated_at < stale_before
    )
    return session.scalars(query).all()


def touch(session: Session, backtest_ids: Iterable[int], now: dt.datetime) -> None:
    """The heartbeat of a process's own queued and running backtests."""
    session.execute(
        update(Backtest)
        .where(Backtest.id.in_(list(backtest_ids)), Backtest.status.in_(("queued", "running")))
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )


def run_id(session: Session, user_id: int, source: str, key: str) -> int | None:
    return session.scalar(
        select(StrategyRun.id).where(
            StrategyRun.user_id == user_id, StrategyRun.source == source, StrategyRun.key == key
        )
    )


def instrument(session: Session, user_id: int, symbol: str) -> Instrument | None:
    return session.scalar(
        select(Instrument).where(Instrument.user_id == user_id, Instrument.symbol == symbol)
    )


def trade_count(session: Session, user_id: int, symbol: str) -> int:
    query = select(func.count()).where(Trade.user_id == user_id, Trade.symbol == symbol)
    return int(session.scalar(query) or 0)


def find_by_run_key(
    session: Session, user_id: int, run_key: str, data_source: str
) -> Backtest | None:
    """The newest backtest of the user with this run key and data source."""
    query = (
        select(Backtest)
        .where(
            Backtest.user_id == user_id,
            Backtest.run_key == run_key,
            Backtest.data_source == data_source,
        )
        .order_by(Backtest.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def delete_demo(
    session: Session, user_id: int, *, source: str, run_key: str, symbol: str, strategy: str
) -> int:
    """Remove the demo: its runs (everything in them cascades), backtests, strategy,
    instrument and market bars. The number of runs removed."""
    removed: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
        delete(StrategyRun).where(StrategyRun.user_id == user_id, StrategyRun.source == source)
    )
    runs = removed.rowcount
    session.execute(
        delete(Backtest).where(
            Backtest.user_id == user_id,
            Backtest.run_key == run_key,
            Backtest.data_source == "synthetic",
        )
    )
    unused = ~select(StrategyRun.id).where(StrategyRun.strategy_id == Strategy.id).exists()
    session.execute(
        delete(Strategy).where(Strategy.user_id == user_id, Strategy.name == strategy, unused)
    )
    left = select(Trade.id).where(Trade.user_id == user_id, Trade.symbol == symbol).exists()
    if not session.scalar(select(left)):
        session.execute(
            delete(Instrument).where(Instrument.user_id == user_id, Instrument.symbol == symbol)
        )
        session.execute(
            delete(MarketSeries).where(
                MarketSeries.user_id == user_id, MarketSeries.symbol == symbol
            )
        )
    return int(runs or 0)
