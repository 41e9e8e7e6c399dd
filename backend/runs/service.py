"""Reading what was ingested, always scoped to the caller's user."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from backend.db.models import Execution, Instrument, Order, OrderEvent
from backend.errors import NotFound
from backend.ingest.progress import derivation_state
from backend.ingest.repository import IngestRepository
from backend.ingest.sql import Dialect
from backend.ingest.timestamps import format_ts
from backend.runs import repository
from backend.runs.pagination import Page, decode_cursor, encode_cursor
from backend.runs.repository import FillFilter
from backend.runs.schemas import (
    ExecutionRead,
    InstrumentRead,
    InstrumentUpdate,
    NamedRef,
    OrderDetail,
    OrderEventRead,
    OrderRead,
    RejectedEventRead,
    RunRead,
)


def _run_read(row: Any) -> RunRead:
    run, strategy_name, instance_name, executions, orders = row
    return RunRead(
        id=run.id,
        source=run.source,
        key=run.key,
        mode=run.mode.value,
        status=run.status.value,
        strategy=NamedRef(id=run.strategy_id, name=strategy_name),
        instance=(NamedRef(id=run.instance_id, name=instance_name) if run.instance_id else None),
        params=run.params,
        initial_capital=run.initial_capital,
        started_ts=format_ts(run.started_ts) if run.started_ts is not None else None,
        ended_ts=format_ts(run.ended_ts) if run.ended_ts is not None else None,
        created_at=run.created_at,
        ended_at=run.ended_at,
        execution_count=executions,
        order_count=orders,
        metrics=run.metrics_json,
    )


def list_runs(
    session: Session,
    user_id: int,
    *,
    mode: str | None,
    strategy: str | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> Page[RunRead]:
    after = decode_cursor(cursor)
    rows = repository.list_runs(
        session, user_id, mode=mode, strategy=strategy, status=status,
        after_id=after[1] if after else None, limit=limit + 1,
    )  # fmt: skip
    items = [_run_read(row) for row in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(0, items[-1].id) if more else None)


def get_run(session: Session, user_id: int, run_id: int) -> RunRead:
    """The caller's run; another user's run is 'not found', so ids do not leak."""
    row = repository.get_run(session, user_id, run_id)
    if row is None:
        raise NotFound(f"run {run_id} not found")
    run = _run_read(row)
    run.derivation = derivation_state(session, user_id, run_id=run_id)
    return run


def _execution_read(row: Execution) -> ExecutionRead:
    return ExecutionRead(
        seq=row.id, id=row.exec_id, source=row.source, order_id=row.order_id,
        ts=format_ts(row.ts), ts_ns=row.ts, symbol=row.symbol, side=row.side, qty=row.qty,
        price=row.price, commission=row.commission, account=row.account,
        liquidity=row.liquidity, amended_at=row.amended_at, removed=row.removed_at is not None,
    )  # fmt: skip


def list_executions(
    session: Session,
    user_id: int,
    run_id: int,
    where: FillFilter,
    *,
    include_removed: bool,
    limit: int,
) -> Page[ExecutionRead]:
    get_run(session, user_id, run_id)
    rows = repository.list_executions(
        session, run_id, where, include_removed=include_removed, limit=limit + 1
    )
    items = [_execution_read(row) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(items=items, next_cursor=encode_cursor(last.ts, last.id) if last else None)


def order_read(row: Order) -> dict[str, Any]:
    """An order as OrderRead's values, JSON-ready (the report writes them without a model)."""
    return {
        "order_id": row.order_id, "source": row.source, "symbol": row.symbol, "side": row.side,
        "order_type": row.order_type, "qty": row.qty, "status": row.status,
        "limit_price": row.limit_price, "stop_price": row.stop_price, "tif": row.tif,
        "parent_id": row.parent_id, "filled_qty": row.filled_qty,
        "avg_fill_price": row.avg_fill_price, "reason": row.reason,
        "created_ts": format_ts(row.created_ts), "ts": format_ts(row.ts), "ts_ns": row.ts,
    }  # fmt: skip


def list_orders(
    session: Session,
    user_id: int,
    run_id: int,
    where: FillFilter,
    *,
    status: str | None,
    limit: int,
) -> Page[OrderRead]:
    get_run(session, user_id, run_id)
    rows = repository.list_orders(session, run_id, where, status=status, limit=limit + 1)
    items = [OrderRead.model_validate(order_read(row)) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(items=items, next_cursor=encode_cursor(last.ts, last.id) if last else None)


def _order_event_read(row: OrderEvent) -> OrderEventRead:
    return OrderEventRead(
        id=row.event_id, ts=format_ts(row.ts), ts_ns=row.ts, status=row.status, qty=row.qty,
        filled_qty=row.filled_qty, avg_fill_price=row.avg_fill_price,
        limit_price=row.limit_price, stop_price=row.stop_price, reason=row.reason,
    )  # fmt: skip


def get_order(session: Session, user_id: int, run_id: int, order_id: str) -> OrderDetail:
    get_run(session, user_id, run_id)
    row = repository.get_order(session, run_id, order_id)
    if row is None:
        raise NotFound(f"order {order_id!r} not found in run {run_id}")
    history = [_order_event_read(e) for e in repository.order_history(session, run_id, order_id)]
    return OrderDetail.model_validate({**order_read(row), "history": history})


def list_instruments(session: Session, user_id: int) -> list[InstrumentRead]:
    return [
        InstrumentRead.model_validate(row, from_attributes=True)
        for row in repository.list_instruments(session, user_id)
    ]


def rederive(session: Session, user_id: int, symbol: str | None = None) -> None:
    """Mark the user's positions (in `symbol`, or all) for a full re-derivation of their trades.

    The caller wakes the derivation runner after committing.
    """
    connection = session.connection()
    pending = IngestRepository(connection, Dialect(connection.dialect.name))
    stamp = pending.dialect.timestamp(dt.datetime.now(dt.UTC))
    pending.mark_pending(
        [
            (user_id, run_id, account, position_symbol, first_ts, stamp)
            for run_id, account, position_symbol, first_ts in repository.positions(
                session, user_id, symbol
            )
        ]
    )


def update_instrument(
    session: Session, user_id: int, symbol: str, data: InstrumentUpdate
) -> InstrumentRead:
    """Create or change an instrument, and mark every position in it for re-derivation.

    Fields sent as null are cleared (`default_risk: null` removes the default);
    a cleared multiplier goes back to 1.
    """
    instrument = repository.get_instrument(session, user_id, symbol)
    if instrument is None:
        instrument = Instrument(user_id=user_id, symbol=symbol, multiplier=1.0)
        session.add(instrument)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(instrument, name, 1.0 if name == "multiplier" and value is None else value)
    instrument.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    rederive(session, user_id, symbol)
    return InstrumentRead.model_validate(instrument, from_attributes=True)


def list_rejected(
    session: Session, user_id: int, *, run_id: int | None, cursor: str | None, limit: int
) -> Page[RejectedEventRead]:
    after = decode_cursor(cursor)
    rows = repository.list_rejected(
        session, user_id, run_id=run_id, after_id=after[1] if after else None, limit=limit + 1
    )
    items = [RejectedEventRead.model_validate(r, from_attributes=True) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(0, items[-1].id) if more else None)
