"""Reading what was ingested, always scoped to the caller's user."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from backend.db.models import Execution, Instrument, Order, OrderEvent
from backend.errors import Conflict, InvalidPayload, NotFound
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


def _instrument_read(row: Instrument, usage: tuple[int, int]) -> InstrumentRead:
    read = InstrumentRead.model_validate(row, from_attributes=True)
    read.run_count, read.trade_count = usage
    return read


def list_instruments(session: Session, user_id: int) -> list[InstrumentRead]:
    usage = repository.instrument_usage(session, user_id)
    return [
        _instrument_read(row, usage.get(row.symbol, (0, 0)))
        for row in repository.list_instruments(session, user_id)
    ]


def get_instrument(session: Session, user_id: int, symbol: str) -> InstrumentRead:
    row = repository.get_instrument(session, user_id, symbol)
    if row is None:
        raise NotFound(f"instrument {symbol!r} not found")
    usage = repository.instrument_usage(session, user_id, symbol)
    return _instrument_read(row, usage.get(symbol, (0, 0)))


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


# What a trade's money is derived with: changing one re-prices the symbol's trades.
REPRICING_FIELDS = ("multiplier", "default_risk")
MAX_SYMBOL = 64


def update_instrument(
    session: Session, user_id: int, symbol: str, data: InstrumentUpdate, *, confirm: bool
) -> InstrumentRead:
    """Create or change an instrument; a change of what prices its trades needs `confirm`.

    Fields sent as null are cleared (`default_risk: null` removes the default);
    a cleared multiplier goes back to 1. Changing `multiplier` or `default_risk` of a
    symbol that has trades re-derives them (P&L, R, excursions in currency): without
    `confirm` that is a 409 saying how many runs and trades it would re-price, and
    nothing changes. Tick size, currency and asset class never re-price anything.
    """
    if not 0 < len(symbol) <= MAX_SYMBOL:
        raise InvalidPayload(f"symbol: must be 1 to {MAX_SYMBOL} characters, got {len(symbol)}")
    instrument = repository.get_instrument(session, user_id, symbol)
    current = instrument or Instrument(user_id=user_id, symbol=symbol, multiplier=1.0)
    changes = {
        name: (getattr(current, name), 1.0 if name == "multiplier" and value is None else value)
        for name, value in data.model_dump(exclude_unset=True).items()
    }
    changes = {name: pair for name, pair in changes.items() if pair[0] != pair[1]}
    repricing = [name for name in REPRICING_FIELDS if name in changes]
    runs, trades = repository.instrument_usage(session, user_id, symbol).get(symbol, (0, 0))
    if repricing and trades and not confirm:
        described = ", ".join(
            f"{name.replace('_', ' ')} {_shown(changes[name][0])} → {_shown(changes[name][1])}"
            for name in repricing
        )
        raise Conflict(
            f"{symbol}: {described} re-prices {trades} trade{'s' * (trades != 1)} in {runs} "
            f"run{'s' * (runs != 1)} (their P&L, R and excursions are derived again); "
            "nothing was changed: send the same request with ?confirm=true to apply it",
            extra={
                "affected": {"runs": runs, "trades": trades},
                "changes": {
                    name: {"from": old, "to": new} for name, (old, new) in changes.items()
                },
            },
        )
    if instrument is None:
        instrument = current
        session.add(instrument)
    for name, (_old, new) in changes.items():
        setattr(instrument, name, new)
    if changes or instrument.updated_at is None:
        instrument.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    if repricing:
        rederive(session, user_id, symbol)
    return _instrument_read(instrument, (runs, trades))


def _shown(value: Any) -> str:
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


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
