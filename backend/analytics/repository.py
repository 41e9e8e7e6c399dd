"""Every query of the analytics feature: closed trades with what metrics and breakdowns need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import Strategy, StrategyInstance, StrategyRun, Trade

TRADE_COLUMNS = (
    Trade.id, Trade.run_id, Trade.symbol, Trade.direction, Trade.entry_ts, Trade.exit_ts,
    Trade.entry_price, Trade.exit_price, Trade.qty, Trade.gross_pnl, Trade.commission,
    Trade.net_pnl, Trade.r_multiple, Trade.mfe, Trade.mae, Trade.regime_trend,
    Trade.regime_volatility, Trade.tags,
)  # fmt: skip


def closed_trades(
    session: Session, user_id: int, run_ids: Sequence[int] | None = None
) -> Sequence[Any]:
    """Closed trades of the user's runs (or of `run_ids`), as rows of TRADE_COLUMNS."""
    query = select(*TRADE_COLUMNS).where(Trade.user_id == user_id, Trade.is_open.is_(False))
    if run_ids is not None:
        query = query.where(Trade.run_id.in_(run_ids))
    return session.execute(query.order_by(Trade.exit_ts, Trade.id)).all()


def open_trades(session: Session, user_id: int, run_ids: Sequence[int]) -> Sequence[Trade]:
    query = select(Trade).where(
        Trade.user_id == user_id, Trade.is_open.is_(True), Trade.run_id.in_(run_ids)
    )
    return session.scalars(query).all()


def runs(
    session: Session, user_id: int, *, mode: str | None = None, strategy: str | None = None
) -> Sequence[Any]:
    """(run, strategy name, instance name) of the user's runs, filtered."""
    query = (
        select(StrategyRun, Strategy.name, StrategyInstance.name)
        .join(Strategy, Strategy.id == StrategyRun.strategy_id)
        .outerjoin(StrategyInstance, StrategyInstance.id == StrategyRun.instance_id)
        .where(StrategyRun.user_id == user_id)
    )
    if mode:
        query = query.where(StrategyRun.mode == mode)
    if strategy:
        query = query.where(Strategy.name == strategy)
    return session.execute(query.order_by(StrategyRun.id)).all()


def get_run(session: Session, user_id: int, run_id: int) -> StrategyRun | None:
    query = select(StrategyRun).where(StrategyRun.id == run_id, StrategyRun.user_id == user_id)
    return session.scalars(query).one_or_none()
