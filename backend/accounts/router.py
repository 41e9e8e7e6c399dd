"""Accounts, cash flows, account equity and FX rates (docs/accounts.md)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Response

from backend.accounts import service
from backend.accounts.schemas import (
    AccountCreate,
    AccountEquity,
    AccountRead,
    AccountUpdate,
    CashFlowCreate,
    CashFlowRead,
    FxRateRead,
    FxRateWrite,
)
from backend.api.deps import SessionDep, WriteSessionDep
from backend.auth.deps import CanRead, CanWriteJournal

router = APIRouter(prefix="/api", tags=["accounts"])

CurrencyQuery = Annotated[
    str | None, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")
]


@router.get("/accounts", operation_id="list_accounts")
def list_accounts(principal: CanRead, session: SessionDep) -> list[AccountRead]:
    """The caller's accounts by name (each made on first sight of its name in a fill)."""
    return service.list_accounts(session, principal.user_id)


@router.post("/accounts", operation_id="create_account", status_code=201)
def create_account(
    data: AccountCreate, principal: CanWriteJournal, session: WriteSessionDep
) -> AccountRead:
    """Make an account by hand (409 when the name is taken)."""
    return service.create_account(session, principal.user_id, data)


@router.get("/accounts/{account_id}", operation_id="get_account")
def get_account(account_id: int, principal: CanRead, session: SessionDep) -> AccountRead:
    """One account."""
    return service.get_account(session, principal.user_id, account_id)


@router.patch("/accounts/{account_id}", operation_id="update_account")
def update_account(
    account_id: int, data: AccountUpdate, principal: CanWriteJournal, session: WriteSessionDep
) -> AccountRead:
    """Change an account's currency, starting balance, broker, type (or unused name)."""
    return service.update_account(session, principal.user_id, account_id, data)


@router.delete("/accounts/{account_id}", operation_id="delete_account", status_code=204)
def delete_account(
    account_id: int, principal: CanWriteJournal, session: WriteSessionDep
) -> Response:
    """Delete an account no fill or cash flow names (409 otherwise)."""
    service.delete_account(session, principal.user_id, account_id)
    return Response(status_code=204)


@router.get("/accounts/{account_id}/cash", operation_id="list_cash_flows")
def list_cash_flows(
    account_id: int,
    principal: CanRead,
    session: SessionDep,
    include_removed: bool = False,
) -> list[CashFlowRead]:
    """The account's deposits, withdrawals, fees and payouts, by time."""
    return service.list_cash(
        session, principal.user_id, account_id, include_removed=include_removed
    )


@router.post("/accounts/{account_id}/cash", operation_id="create_cash_flow", status_code=201)
def create_cash_flow(
    account_id: int,
    data: CashFlowCreate,
    principal: CanWriteJournal,
    session: WriteSessionDep,
    response: Response,
) -> CashFlowRead:
    """Enter a cash flow by hand; resent with the same `id` it is not doubled (200)."""
    flow, created = service.create_cash(session, principal.user_id, account_id, data)
    if not created:
        response.status_code = 200
    return flow


@router.delete(
    "/accounts/{account_id}/cash/{flow_id}", operation_id="delete_cash_flow", status_code=204
)
def delete_cash_flow(
    account_id: int, flow_id: int, principal: CanWriteJournal, session: WriteSessionDep
) -> Response:
    """Remove a cash flow (kept, marked removed; it counts no more)."""
    service.delete_cash(session, principal.user_id, account_id, flow_id)
    return Response(status_code=204)


@router.get("/accounts/{account_id}/equity", operation_id="get_account_equity")
def get_account_equity(account_id: int, principal: CanRead, session: SessionDep) -> AccountEquity:
    """Equity curve and summary in the account's currency (422 naming a missing FX rate)."""
    user = principal.user
    return service.account_equity_read(session, user.id, user.timezone, account_id, time.time_ns())


@router.get("/fx-rates", operation_id="list_fx_rates")
def list_fx_rates(
    principal: CanRead,
    session: SessionDep,
    base: CurrencyQuery = None,
    quote: CurrencyQuery = None,
) -> list[FxRateRead]:
    """FX rates entered by hand, by pair and day."""
    return service.list_fx_rates(session, principal.user_id, base, quote)


@router.put("/fx-rates", operation_id="put_fx_rate")
def put_fx_rate(
    data: FxRateWrite, principal: CanWriteJournal, session: WriteSessionDep, response: Response
) -> FxRateRead:
    """Set a pair's rate on a day (201 when new); it wins over that day's FX bar."""
    rate, created = service.put_fx_rate(session, principal.user_id, data)
    if created:
        response.status_code = 201
    return rate


@router.delete("/fx-rates/{rate_id}", operation_id="delete_fx_rate", status_code=204)
def delete_fx_rate(rate_id: int, principal: CanWriteJournal, session: WriteSessionDep) -> Response:
    """Delete a rate entered by hand."""
    service.delete_fx_rate(session, principal.user_id, rate_id)
    return Response(status_code=204)
