"""Every query of the runs feature: runs, their executions and orders, instruments, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from backend.db.models import (
    Execution,
    Instrument,
    Order,
    OrderEvent,
    RejectedEvent,
    Strategy,
    StrategyInstance,
    StrategyRun,
    Trade,
)


@dataclass(frozen=True)
class FillFilter:
    symbol: str | None = None
    side: str | None = None
    start: int | None = None  # inclusive, UTC ns
    end: int | None = None  # exclusive
    after: tuple[int, int] | None = None  # keyset: (ts, id) of the last row served


def _run_query() -> Select[Any]:
    instance = aliased(StrategyInstance)
    executions = (
        select(func.count())
        .where(Execution.run_id == StrategyRun.id, Execution.removed_at.is_(None))
        .scalar_subquery()
    )
    orders = select(func.count()).where(Order.run_id == StrategyRun.id).scalar_subquery()
    return (
        select(StrategyRun, Strategy.name, instance.name, executions, orders)
        .join(Strategy, Strategy.id == StrategyRun.strategy_id)
        .outerjoin(instance, instance.id == StrategyRun.instance_id)
    )


def list_runs(
    session: Session,
    user_id: int,
    *,
    mode: str | None,
    strategy: str | None,
    status: str | None,
    after_id: int | None,
    limit: int,
) -> Sequence[Any]:
    query = _run_query().where(StrategyRun.user_id == user_id)
    if mode:
        query = query.where(StrategyRun.mode == mode)
    if strategy:
        query = query.where(Strategy.name == strategy)
    if status:
        query = query.where(StrategyRun.status == status)
    if after_id is not None:
        query = query.where(StrategyRun.id < after_id)
    return session.execute(query.order_by(StrategyRun.id.desc()).limit(limit)).all()


def get_run(session: Session, user_id: int, run_id: int) -> Any | None:
    query = _run_query().where(StrategyRun.id == run_id, StrategyRun.user_id == user_id)
    return session.execute(query).one_or_none()


def _window(query: Select[Any], ts: Any, row_id: Any, where: FillFilter) -> Select[Any]:
    if where.start is not None:
        query = query.where(ts >= where.start)
    if where.end is not None:
        query = query.where(ts < where.end)
    if where.after is not None:
        last_ts, last_id = where.after
        query = query.where(or_(ts > last_ts, and_(ts == last_ts, row_id > last_id)))
    return query.order_by(ts, row_id)


def list_executions(
    session: Session, run_id: int, where: FillFilter, *, include_removed: bool, limit: int
) -> Sequence[Execution]:
    query = select(Execution).where(Execution.run_id == run_id)
    if where.symbol:
        query = query.where(Execution.symbol == where.symbol)
    if where.side:
        query = query.where(Execution.side == where.side)
    if not include_removed:
        query = query.where(Execution.removed_at.is_(None))
    query = _window(query, Execution.ts, Execution.id, where)
    return session.scalars(query.limit(limit)).all()


def list_orders(
    session: Session, run_id: int, where: FillFilter, *, status: str | None, limit: int
) -> Sequence[Order]:
    query = select(Order).where(Order.run_id == run_id)
    if where.symbol:
        query = query.where(Order.symbol == where.symbol)
    if where.side:
        query = query.where(Order.side == where.side)
    if status:
        query = query.where(Order.status == status)
    query = _window(query, Order.ts, Order.id, where)
    return session.scalars(query.limit(limit)).all()


def get_order(session: Session, run_id: int, order_id: str) -> Order | None:
    query = select(Order).where(Order.run_id == run_id, Order.order_id == order_id)
    return session.scalars(query).one_or_none()


def order_history(session: Session, run_id: int, order_id: str) -> Sequence[OrderEvent]:
    query = (
        select(OrderEvent)
        .where(OrderEvent.run_id == run_id, OrderEvent.order_id == order_id)
        .order_by(OrderEvent.ts, OrderEvent.id)
    )
    return session.scalars(query).all()


def list_instruments(session: Session, user_id: int) -> Sequence[Instrument]:
    query = select(Instrument).where(Instrument.user_id == user_id).order_by(Instrument.symbol)
    return session.scalars(query).all()


def get_instrument(session: Session, user_id: int, symbol: str) -> Instrument | None:
    query = select(Instrument).where(Instrument.user_id == user_id, Instrument.symbol == symbol)
    return session.scalars(query).one_or_none()


def instrument_usage(
    session: Session, user_id: int, symbol: str | None = None
) -> dict[str, tuple[int, int]]:
    """symbol -> (runs, trades) of the user's trades in it: what a new multiplier re-prices."""
    query = select(Trade.symbol, func.count(func.distinct(Trade.run_id)), func.count()).where(
        Trade.user_id == user_id
    )
    if symbol is not None:
        query = query.where(Trade.symbol == symbol)
    rows = session.execute(query.group_by(Trade.symbol)).all()
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


def positions(session: Session, user_id: int, symbol: str | None) -> Sequence[Any]:
    """Every (run, account, symbol) with fills (of `symbol`, if given) and its first fill time."""
    query = select(
        Execution.run_id, Execution.account, Execution.symbol, func.min(Execution.ts)
    ).where(Execution.user_id == user_id)
    if symbol is not None:
        query = query.where(Execution.symbol == symbol)
    query = query.group_by(Execution.run_id, Execution.account, Execution.symbol)
    return session.execute(query).all()


def list_rejected(
    session: Session, user_id: int, *, run_id: int | None, after_id: int | None, limit: int
) -> Sequence[RejectedEvent]:
    query = select(RejectedEvent).where(RejectedEvent.user_id == user_id)
    if run_id is not None:
        query = query.where(RejectedEvent.run_id == run_id)
    if after_id is not None:
        query = query.where(RejectedEvent.id < after_id)
    return session.scalars(query.order_by(RejectedEvent.id.desc()).limit(limit)).all()
