"""Every query of the trades feature."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, exists, insert, or_, select
from sqlalchemy.orm import Session, aliased

from backend.db.models import Execution, Instrument, Order, OrderEvent, Trade, TradeFill
from backend.trades.incremental import StoredTrade
from backend.trades.reconstruct import Fill
from backend.trades.risk import FINISHED, StopOrder


def instrument(session: Session, user_id: int, symbol: str) -> tuple[float, float | None]:
    """(multiplier, default risk distance) of a symbol; a symbol never described is 1, None."""
    row = session.execute(
        select(Instrument.multiplier, Instrument.default_risk).where(
            Instrument.user_id == user_id, Instrument.symbol == symbol
        )
    ).first()
    return (float(row[0]), row[1]) if row else (1.0, None)


def _position(run_id: int, account: str, symbol: str) -> Any:
    return and_(Trade.run_id == run_id, Trade.account == account, Trade.symbol == symbol)


def stored_trades(
    session: Session, run_id: int, account: str, symbol: str, from_ts: int
) -> list[StoredTrade]:
    """The position's trades that are open or end at or after `from_ts`."""
    crossing = exists().where(
        TradeFill.execution_id == Trade.id, TradeFill.role == "exit", TradeFill.trade_id != Trade.id
    )
    rows = session.execute(
        select(Trade.id, Trade.entry_ts, Trade.exit_ts, crossing).where(
            _position(run_id, account, symbol),
            or_(Trade.exit_ts.is_(None), Trade.exit_ts >= from_ts),
        )
    )
    return [StoredTrade(r[0], r[1], r[2], bool(r[3])) for r in rows]


def user_annotations(session: Session, trade_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not trade_ids:
        return {}
    rows = session.execute(
        select(Trade.id, Trade.notes, Trade.tags, Trade.setup).where(Trade.id.in_(trade_ids))
    )
    return {r[0]: {"notes": r[1], "tags": r[2], "setup": r[3]} for r in rows}


def delete_trades(session: Session, trade_ids: Sequence[int]) -> None:
    if trade_ids:
        session.execute(delete(TradeFill).where(TradeFill.trade_id.in_(trade_ids)))
        session.execute(delete(Trade).where(Trade.id.in_(trade_ids)))


def crossing_entry(session: Session, trade_id: int) -> tuple[Fill, float, float]:
    """The fill that opened trade `trade_id` by crossing zero, and the part it opened with."""
    row = session.execute(
        select(
            Execution.id,
            Execution.ts,
            Execution.side,
            Execution.qty,
            Execution.price,
            Execution.commission,
            TradeFill.qty,
            TradeFill.commission,
        )
        .join(TradeFill, TradeFill.execution_id == Execution.id)
        .where(TradeFill.trade_id == trade_id, TradeFill.execution_id == trade_id)
    ).one()
    return Fill(*row[:6]), float(row[6]), float(row[7])


def fills(
    session: Session,
    run_id: int,
    account: str,
    symbol: str,
    key: tuple[int, int],
    *,
    inclusive: bool,
) -> list[Fill]:
    """The position's live fills at (or after) `key` = (ts, seq), in (ts, seq) order."""
    ts, seq = key
    later = Execution.id >= seq if inclusive else Execution.id > seq
    rows = session.execute(
        select(
            Execution.id,
            Execution.ts,
            Execution.side,
            Execution.qty,
            Execution.price,
            Execution.commission,
        )
        .where(
            Execution.run_id == run_id,
            Execution.account == account,
            Execution.symbol == symbol,
            Execution.removed_at.is_(None),
            or_(Execution.ts > ts, and_(Execution.ts == ts, later)),
        )
        .order_by(Execution.ts, Execution.id)
    )
    return [Fill(*row) for row in rows]


def entry_order_ids(session: Session, seqs: Sequence[int]) -> dict[int, str | None]:
    if not seqs:
        return {}
    rows = session.execute(select(Execution.id, Execution.order_id).where(Execution.id.in_(seqs)))
    return {r[0]: r[1] for r in rows}


def stop_orders(session: Session, run_id: int, symbol: str) -> list[StopOrder]:
    """The run's stop and stop-limit orders on `symbol` with when they were placed and finished."""
    first_stop = aliased(OrderEvent)
    placed = (
        select(OrderEvent.ts)
        .where(OrderEvent.run_id == Order.run_id, OrderEvent.order_id == Order.order_id)
        .order_by(OrderEvent.ts, OrderEvent.id)
        .limit(1)
        .scalar_subquery()
    )
    finished = (
        select(OrderEvent.ts)
        .where(
            OrderEvent.run_id == Order.run_id,
            OrderEvent.order_id == Order.order_id,
            OrderEvent.status.in_(FINISHED),
        )
        .order_by(OrderEvent.ts, OrderEvent.id)
        .limit(1)
        .scalar_subquery()
    )
    stop = (
        select(first_stop.stop_price)
        .where(
            first_stop.run_id == Order.run_id,
            first_stop.order_id == Order.order_id,
            first_stop.stop_price.is_not(None),
        )
        .order_by(first_stop.ts, first_stop.id)
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Order.order_id, Order.side, Order.order_type, Order.parent_id, placed, finished, stop
        ).where(
            Order.run_id == run_id,
            Order.symbol == symbol,
            Order.order_type.in_(("stop", "stop_limit")),
        )
    )
    return [StopOrder(*row) for row in rows]


def insert_trades(
    session: Session, trades: list[dict[str, Any]], parts: list[dict[str, Any]]
) -> None:
    if trades:
        session.execute(insert(Trade), trades)
    if parts:
        session.execute(insert(TradeFill), parts)
