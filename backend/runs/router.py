from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from backend.api.deps import ContextDep, SessionDep, WriteSessionDep
from backend.api.params import query_time
from backend.auth.deps import CanRead, CanWriteJournal
from backend.ingest.progress import DerivationState, derivation_state
from backend.runs import service
from backend.runs.pagination import Cursor, Limit, Page, decode_cursor
from backend.runs.repository import FillFilter
from backend.runs.schemas import (
    ExecutionRead,
    InstrumentConflict,
    InstrumentRead,
    InstrumentUpdate,
    OrderDetail,
    OrderRead,
    RejectedEventRead,
    RunRead,
)

router = APIRouter(prefix="/api", tags=["runs"])

Side = Annotated[Literal["buy", "sell"] | None, Query()]
Time = Annotated[str | None, Query(description="ISO-8601 with offset, or epoch ns")]


def _filter(
    symbol: str | None, side: str | None, start: str | None, end: str | None, cursor: str | None
) -> FillFilter:
    return FillFilter(
        symbol=symbol,
        side=side,
        start=query_time("start", start),
        end=query_time("end", end),
        after=decode_cursor(cursor),
    )


@router.get("/runs", operation_id="list_runs")
def list_runs(
    principal: CanRead,
    session: SessionDep,
    mode: Literal["live", "paper", "backtest"] | None = None,
    strategy: str | None = None,
    status: Literal["running", "completed", "failed"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[RunRead]:
    """The caller's runs, newest first, with strategy, instance and counts."""
    return service.list_runs(
        session, principal.user_id, mode=mode, strategy=strategy, status=status,
        cursor=cursor, limit=limit,
    )  # fmt: skip


@router.get("/derivation", operation_id="get_derivation_state")
def get_derivation_state(principal: CanRead, session: SessionDep) -> DerivationState:
    """Whether the caller's trades are current: positions still being rebuilt, and failed ones."""
    return derivation_state(session, principal.user_id)


@router.get("/runs/{run_id}", operation_id="get_run")
def get_run(run_id: int, principal: CanRead, session: SessionDep) -> RunRead:
    """One run with its strategy and instance."""
    return service.get_run(session, principal.user_id, run_id)


@router.get("/runs/{run_id}/executions", operation_id="list_executions")
def list_executions(
    run_id: int,
    principal: CanRead,
    session: SessionDep,
    symbol: str | None = None,
    side: Side = None,
    start: Time = None,
    end: Time = None,
    include_removed: bool = False,
    cursor: Cursor = None,
    limit: Limit = 500,
) -> Page[ExecutionRead]:
    """A run's fills in time order (arrival order within equal times), filtered and paged."""
    where = _filter(symbol, side, start, end, cursor)
    return service.list_executions(
        session, principal.user_id, run_id, where, include_removed=include_removed, limit=limit
    )


@router.get("/runs/{run_id}/orders", operation_id="list_orders")
def list_orders(
    run_id: int,
    principal: CanRead,
    session: SessionDep,
    symbol: str | None = None,
    side: Side = None,
    status: str | None = None,
    start: Time = None,
    end: Time = None,
    cursor: Cursor = None,
    limit: Limit = 500,
) -> Page[OrderRead]:
    """A run's orders in their current state, by time of their latest change."""
    where = _filter(symbol, side, start, end, cursor)
    return service.list_orders(
        session, principal.user_id, run_id, where, status=status, limit=limit
    )


@router.get("/runs/{run_id}/orders/{order_id:path}", operation_id="get_order")
def get_order(
    run_id: int, order_id: str, principal: CanRead, session: SessionDep
) -> OrderDetail:
    """One order's current state and its full status history."""
    return service.get_order(session, principal.user_id, run_id, order_id)


@router.get("/instruments", operation_id="list_instruments")
def list_instruments(principal: CanRead, session: SessionDep) -> list[InstrumentRead]:
    """The caller's instruments (multiplier, tick size, currency)."""
    return service.list_instruments(session, principal.user_id)


@router.get("/instruments/{symbol}", operation_id="get_instrument")
def get_instrument(symbol: str, principal: CanRead, session: SessionDep) -> InstrumentRead:
    """One of the caller's instruments, with the runs and trades priced with it."""
    return service.get_instrument(session, principal.user_id, symbol)


@router.patch(
    "/instruments/{symbol}",
    operation_id="update_instrument",
    responses={409: {"model": InstrumentConflict, "description": "it re-prices trades: confirm"}},
)
def update_instrument(
    symbol: str,
    data: InstrumentUpdate,
    principal: CanWriteJournal,
    context: ContextDep,
    session: WriteSessionDep,
    confirm: Annotated[
        bool, Query(description="apply a change that re-prices existing trades")
    ] = False,
) -> InstrumentRead:
    """Set an instrument's multiplier, tick size, currency or default risk.

    A new multiplier or default risk of a symbol with trades re-derives them: without
    `confirm=true` the answer is 409 with `affected` (runs, trades) and `changes`, and
    nothing is changed.
    """
    instrument = service.update_instrument(
        session, principal.user_id, symbol, data, confirm=confirm
    )
    session.commit()
    context.ingest.derivations.notify()
    return instrument


@router.get("/rejected-events", operation_id="list_rejected_events")
def list_rejected_events(
    principal: CanRead,
    session: SessionDep,
    run_id: int | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[RejectedEventRead]:
    """Events that failed validation, newest first, with their raw form and reason."""
    return service.list_rejected(
        session, principal.user_id, run_id=run_id, cursor=cursor, limit=limit
    )
