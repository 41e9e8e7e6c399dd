"""The queries of order analytics and trade explanations (orders, their histories, fills)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from backend.db.models import Execution, Instrument, Order, OrderEvent, TradeFill
from backend.market import repository as bars
from backend.trades.order_analytics import (
    Closes,
    FillRecord,
    OrderEventRecord,
    OrderRecord,
)
from backend.trades.order_analytics import (
    Instrument as InstrumentInfo,
)
from backend.trades.risk import PLACEMENT_GRACE_NS

# How far before an order's placement the last closed bar is looked for.
CLOSE_LOOKBACK_NS = 7 * 86_400 * 1_000_000_000
_IN_CHUNK = 5000


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


def instrument(session: Session, user_id: int, symbol: str) -> InstrumentInfo:
    """The symbol's multiplier and tick size (1 and None for a symbol never described)."""
    row = session.execute(
        select(Instrument.multiplier, Instrument.tick_size).where(
            Instrument.user_id == user_id, Instrument.symbol == symbol
        )
    ).first()
    return InstrumentInfo(float(row[0]), row[1]) if row else InstrumentInfo()


def _records(events: Sequence[OrderEvent]) -> list[OrderRecord]:
    by_order: dict[str, list[OrderEvent]] = defaultdict(list)
    for event in events:
        by_order[event.order_id].append(event)
    records = []
    for order_id, history in by_order.items():
        history.sort(key=lambda e: (e.ts, e.id))
        latest = history[-1]
        parent = next((e.parent_id for e in reversed(history) if e.parent_id is not None), None)
        records.append(
            OrderRecord(
                order_id=order_id,
                symbol=latest.symbol,
                side=latest.side,
                order_type=latest.order_type,
                parent_id=parent,
                events=tuple(
                    OrderEventRecord(e.ts, e.id, e.status, e.qty, e.limit_price, e.stop_price)
                    for e in history
                ),
            )
        )
    records.sort(key=lambda r: (r.events[0].ts, r.events[0].seq))
    return records


def order_records(
    session: Session, run_id: int, order_ids: Sequence[str] | None = None
) -> list[OrderRecord]:
    """The run's orders (only `order_ids` when given) with their histories, by placement."""
    query = select(OrderEvent).where(OrderEvent.run_id == run_id)
    if order_ids is None:
        return _records(session.scalars(query).all())
    events: list[OrderEvent] = []
    for chunk in _chunks(sorted(set(order_ids))):
        events.extend(session.scalars(query.where(OrderEvent.order_id.in_(chunk))).all())
    return _records(events)


def order_fills(
    session: Session, run_id: int, order_ids: Sequence[str] | None = None
) -> dict[str, list[FillRecord]]:
    """The fills (not removed) of each order, in (ts, arrival) order."""
    query = select(
        Execution.order_id,
        Execution.id,
        Execution.exec_id,
        Execution.ts,
        Execution.qty,
        Execution.price,
    ).where(
        Execution.run_id == run_id,
        Execution.removed_at.is_(None),
        Execution.order_id.is_not(None),
    )
    rows: list[Any] = []
    if order_ids is None:
        rows = list(session.execute(query).all())
    else:
        for chunk in _chunks(sorted(set(order_ids))):
            rows.extend(session.execute(query.where(Execution.order_id.in_(chunk))).all())
    found: dict[str, list[FillRecord]] = defaultdict(list)
    for order_id, seq, exec_id, ts, qty, price in sorted(rows, key=lambda r: (r[3], r[1])):
        found[order_id].append(FillRecord(seq, exec_id, ts, qty, price))
    return found


def closes(session: Session, user_id: int, symbol: str, start: int, end: int) -> Closes | None:
    """The finest stored bars of `symbol` from `CLOSE_LOOKBACK_NS` before `start` to `end`."""
    series = bars.series_by_timeframe(session, user_id, symbol)
    if not series:
        return None
    timeframe_s = min(series)
    ts, _o, _h, _l, close = bars.price_arrays(
        session, series[timeframe_s], start - CLOSE_LOOKBACK_NS, end + 1
    )
    return Closes(np.asarray(ts, dtype=np.int64), np.asarray(close), timeframe_s)


def protective_stop_ids(
    session: Session,
    run_id: int,
    symbol: str,
    exit_side: str,
    entry_ts: int,
    exit_ts: int | None,
    linked: Sequence[str],
) -> list[str]:
    """The ids of a trade's protective stops: stop and stop-limit orders on the exit side
    linked to one of `linked` (its fills' orders) by `parent_id`, one of them, or placed
    during the trade's life (from 1 s before the entry to the exit) and not finished
    before the entry."""
    placed = Order.created_ts >= entry_ts - PLACEMENT_GRACE_NS
    if exit_ts is not None:
        placed = and_(placed, Order.created_ts <= exit_ts)
    during = and_(placed, or_(Order.finished_ts.is_(None), Order.finished_ts > entry_ts))
    conditions = [during]
    if linked:
        conditions += [Order.parent_id.in_(linked), Order.order_id.in_(linked)]
    query = (
        select(Order.order_id)
        .where(
            Order.run_id == run_id,
            Order.symbol == symbol,
            Order.side == exit_side,
            Order.order_type.in_(("stop", "stop_limit")),
            or_(*conditions),
        )
        .order_by(Order.created_ts, Order.id)
    )
    return list(session.scalars(query).all())


def crossing_part(session: Session, trade_id: int) -> tuple[int, float] | None:
    """When trade `trade_id`'s first fill also closed the trade before: (that trade's id,
    the quantity it closed)."""
    row = session.execute(
        select(TradeFill.trade_id, TradeFill.qty).where(
            TradeFill.execution_id == trade_id, TradeFill.trade_id != trade_id
        )
    ).first()
    return None if row is None else (int(row[0]), float(row[1]))


def position_fills(
    session: Session,
    run_id: int,
    account: str,
    symbol: str,
    first_seq: int,
    until_ts: int | None,
    limit: int,
) -> list[Execution]:
    """Fill `first_seq`, then the position's later fills (not removed) in (ts, arrival)
    order up to `until_ts` (inclusive), at most `limit` in all."""
    first = session.get(Execution, first_seq)
    if first is None:
        return []
    query = select(Execution).where(
        Execution.run_id == run_id,
        Execution.account == account,
        Execution.symbol == symbol,
        Execution.removed_at.is_(None),
        or_(Execution.ts > first.ts, and_(Execution.ts == first.ts, Execution.id > first.id)),
    )
    if until_ts is not None:
        query = query.where(Execution.ts <= until_ts)
    later = session.scalars(query.order_by(Execution.ts, Execution.id).limit(limit - 1)).all()
    return [first, *later]
