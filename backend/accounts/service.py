"""Accounts, their cash flows and equity, and hand-entered FX rates (docs/accounts.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from backend.accounts import repository
from backend.accounts.equity import Entry, account_equity, signed_cash
from backend.accounts.fx import LOOKBACK_DAYS, UNIT, MissingRates, Rates, convert_all
from backend.accounts.schemas import (
    AccountCreate,
    AccountEquity,
    AccountRead,
    AccountUpdate,
    CashFlowCreate,
    CashFlowRead,
    EquityPointRead,
    EquitySummary,
    FxRateRead,
    FxRateWrite,
)
from backend.daily.days import day_bounds, local_days
from backend.db.base import utcnow
from backend.db.models import Account, CashFlow, FxRate
from backend.errors import AppError, Conflict, InvalidPayload, NotFound
from backend.ingest.timestamps import TimestampError, format_ts, parse_ts
from backend.trades.service import Marks

MANUAL_SOURCE = "manual"  # the source of cash flows entered by hand
_QUANTUM = Decimal("1e-8")


class MissingRate(AppError):
    """A total that needs an FX rate nobody gave: names each pair and day."""

    status_code = 422
    code = "missing_rate"


def _units(value: Decimal | float) -> int:
    amount = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return int((amount * UNIT).to_integral_value(ROUND_HALF_EVEN))


def _money(units: int) -> float:
    return units / UNIT


def _zone(timezone: str) -> ZoneInfo:
    return ZoneInfo(timezone or "UTC")


# -- accounts ---------------------------------------------------------------------------


def _read(account: Account) -> AccountRead:
    return AccountRead(
        id=account.id, name=account.name, base_currency=account.base_currency,
        starting_balance=float(account.starting_balance), broker=account.broker,
        type=account.type,
        created_at=account.created_at, updated_at=account.updated_at,
    )  # fmt: skip


def _account(session: Session, user_id: int, account_id: int) -> Account:
    account = repository.get_account(session, user_id, account_id)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    return account


def list_accounts(session: Session, user_id: int) -> list[AccountRead]:
    return [_read(account) for account in repository.list_accounts(session, user_id)]


def get_account(session: Session, user_id: int, account_id: int) -> AccountRead:
    return _read(_account(session, user_id, account_id))


def create_account(session: Session, user_id: int, data: AccountCreate) -> AccountRead:
    if repository.account_named(session, user_id, data.name) is not None:
        raise Conflict(f"name: an account named {data.name!r} exists already")
    account = Account(
        user_id=user_id, name=data.name, base_currency=data.base_currency,
        starting_balance=Decimal(repr(data.starting_balance)).quantize(_QUANTUM),
        broker=data.broker, type=data.type,
    )  # fmt: skip
    session.add(account)
    session.flush()
    return _read(account)


def update_account(
    session: Session, user_id: int, account_id: int, data: AccountUpdate
) -> AccountRead:
    account = _account(session, user_id, account_id)
    given = data.model_fields_set
    for name in ("name", "base_currency", "starting_balance", "type"):
        if name in given and getattr(data, name) is None:
            raise InvalidPayload(f"{name}: must not be null")
    if "name" in given and data.name != account.name:
        assert data.name is not None
        fills, flows = repository.usage(session, user_id, account.name)
        if fills or flows:
            raise Conflict(
                f"name: {fills} fills and {flows} cash flows carry the name {account.name!r}, "
                "so it cannot change (they find their account by it)"
            )
        if repository.account_named(session, user_id, data.name) is not None:
            raise Conflict(f"name: an account named {data.name!r} exists already")
        account.name = data.name
    if "base_currency" in given and data.base_currency is not None:
        account.base_currency = data.base_currency
    if "starting_balance" in given and data.starting_balance is not None:
        account.starting_balance = Decimal(repr(data.starting_balance)).quantize(_QUANTUM)
    if "broker" in given:
        account.broker = data.broker
    if "type" in given and data.type is not None:
        account.type = data.type
    account.updated_at = utcnow()
    session.flush()
    return _read(account)


def delete_account(session: Session, user_id: int, account_id: int) -> None:
    """Only an account no fill or cash flow names: those would make it again, unseen."""
    account = _account(session, user_id, account_id)
    fills, flows = repository.usage(session, user_id, account.name)
    if fills or flows:
        raise Conflict(
            f"account {account.name!r} is named by {fills} fills and {flows} cash flows; "
            "only an account nothing refers to can be deleted"
        )
    session.delete(account)
    session.flush()


# -- cash flows -------------------------------------------------------------------------


def _cash_read(flow: CashFlow, account: Account) -> CashFlowRead:
    return CashFlowRead(
        id=flow.id, flow_id=flow.flow_id, source=flow.source, account=flow.account,
        kind=flow.kind,
        amount=float(flow.amount), currency=flow.currency or account.base_currency,
        ts=format_ts(flow.ts), note=flow.note, removed=flow.removed_at is not None,
    )  # fmt: skip


def list_cash(
    session: Session, user_id: int, account_id: int, *, include_removed: bool
) -> list[CashFlowRead]:
    account = _account(session, user_id, account_id)
    flows = repository.cash_flows(session, user_id, account.name, include_removed=include_removed)
    return [_cash_read(flow, account) for flow in flows]


def create_cash(
    session: Session, user_id: int, account_id: int, data: CashFlowCreate
) -> tuple[CashFlowRead, bool]:
    """The flow entered by hand, and whether it is new (a resent `id` is not doubled)."""
    account = _account(session, user_id, account_id)
    try:
        ts = parse_ts(data.ts)
    except TimestampError as exc:
        raise InvalidPayload(f"ts: {exc}") from None
    flow_id = data.id or uuid.uuid4().hex
    found = repository.cash_flow_by_id(session, user_id, MANUAL_SOURCE, flow_id)
    if found is not None:
        if found.account != account.name:
            raise Conflict(f"id: cash flow {flow_id!r} belongs to another account")
        return _cash_read(found, account), False
    flow = CashFlow(
        user_id=user_id, source=MANUAL_SOURCE, flow_id=flow_id, account=account.name,
        kind=data.kind, amount=Decimal(repr(data.amount)).quantize(_QUANTUM),
        currency=data.currency, ts=ts, note=data.note,
    )  # fmt: skip
    session.add(flow)
    session.flush()
    return _cash_read(flow, account), True


def delete_cash(session: Session, user_id: int, account_id: int, flow_pk: int) -> None:
    """Mark the flow removed (kept, as a pushed `remove` keeps it)."""
    account = _account(session, user_id, account_id)
    flow = repository.cash_flow(session, user_id, account.name, flow_pk)
    if flow is None or flow.removed_at is not None:
        raise NotFound(f"cash flow {flow_pk} not found in account {account_id}")
    flow.removed_at = utcnow()
    session.flush()


# -- equity -----------------------------------------------------------------------------


def _rates(session: Session, user_id: int, foreign: set[str], base: str, first: dt.date) -> Rates:
    """Daily rates between `base` and each `foreign` currency from `first` (less the
    look-back): hand-entered ones, else the close of the pair's 1d market bars."""
    since = first - dt.timedelta(days=LOOKBACK_DAYS)
    pairs = [(c, base) for c in foreign] + [(base, c) for c in foreign]
    by_pair: dict[tuple[str, str], dict[dt.date, int]] = {pair: {} for pair in pairs}
    symbols = {f"{b}{q}": (b, q) for b, q in pairs}
    start = day_bounds(since, ZoneInfo("UTC"))[0]
    for symbol, ts, close in repository.daily_bars(session, user_id, list(symbols), start):
        day = dt.date(1970, 1, 1) + dt.timedelta(days=ts // (86_400 * 10**9))
        by_pair[symbols[symbol]][day] = _units(close)
    for b, q, day, rate in repository.hand_rates(session, user_id, pairs, since):
        by_pair[(b, q)][day] = _units(rate)  # a rate entered by hand wins over a bar
    return Rates(by_pair)


def account_equity_read(
    session: Session, user_id: int, timezone: str, account_id: int, now_ns: int
) -> AccountEquity:
    """Starting balance + cash flows + realised P&L + open P&L, in the account's currency,
    each amount converted at the rate of the day (user's zone) it was booked."""
    account = _account(session, user_id, account_id)
    base = account.base_currency
    zone = _zone(timezone)
    flows = repository.cash_flows(session, user_id, account.name)
    trades = repository.account_trades(session, user_id, account.name)
    ccy = repository.currencies(session, user_id, [t[1] for t in trades])
    closed = [t for t in trades if not t[3] and t[0] is not None]
    still_open = [t for t in trades if t[3]]

    marks = Marks(session, user_id)
    open_units: list[tuple[int, str]] = []
    unmarked: set[str] = set()
    for _exit, symbol, net, _o, direction, entry_price, extra, qty, multiplier in still_open:
        units = _units(net)
        mark = marks.close(symbol)
        if mark is None:
            unmarked.add(symbol)
        else:
            open_qty = Decimal(repr(float((extra or {}).get("open_qty", qty))))
            move = Decimal(_units(mark) - _units(entry_price)) / UNIT
            sign = 1 if direction == "long" else -1
            units += _units(move * open_qty * sign * Decimal(repr(float(multiplier))))
        open_units.append((units, ccy.get(symbol) or base))

    times = np.array([f.ts for f in flows] + [t[0] for t in closed], dtype=np.int64)
    days = local_days(times, zone)
    today = local_days(np.array([now_ns], dtype=np.int64), zone)[0]
    amounts: list[tuple[int, str, dt.date]] = [
        (_units(f.amount), f.currency or base, day) for f, day in zip(flows, days, strict=False)
    ]
    amounts += [
        (_units(t[2]), ccy.get(t[1]) or base, day)
        for t, day in zip(closed, days[len(flows) :], strict=True)
    ]
    amounts += [(units, currency, today) for units, currency in open_units]
    foreign = {currency for _u, currency, _d in amounts if currency != base}
    first = min((d for _u, _c, d in amounts), default=today)
    rates = _rates(session, user_id, foreign, base, first) if foreign else Rates({})
    try:
        converted = convert_all(rates, amounts, base)
    except MissingRates as exc:
        raise MissingRate(
            f"account {account.name!r} ({base}): {exc}",
            extra={"missing_rates": [
                {"pair": m.pair, "day": m.day.isoformat()} for m in exc.missing
            ]},
        ) from None  # fmt: skip

    entries = [
        Entry(f.ts, f.kind, signed_cash(f.kind, units))
        for f, units in zip(flows, converted, strict=False)
    ]
    entries += [
        Entry(int(t[0]), "trade", units)
        for t, units in zip(closed, converted[len(flows) :], strict=False)
    ]
    open_total = sum(converted[len(flows) + len(closed) :])
    if still_open:
        entries.append(Entry(now_ns, "open", open_total))
    result = account_equity(_units(account.starting_balance), entries)
    totals = result.totals
    net_cash = totals["deposit"] + totals["withdrawal"] + totals["payout"] + totals["fee"]
    summary = EquitySummary(
        starting_balance=_money(result.starting_balance),
        deposits=_money(totals["deposit"]), withdrawals=_money(totals["withdrawal"]),
        payouts=_money(totals["payout"]), fees=_money(totals["fee"]),
        net_cash_flow=_money(net_cash), realised_pnl=_money(totals["trade"]),
        open_pnl=_money(totals["open"]), equity=_money(result.equity),
        trade_count=len(closed), open_trade_count=len(still_open),
        unmarked_symbols=sorted(unmarked),
        time_weighted_return=result.time_weighted_return, max_drawdown=result.max_drawdown,
        max_drawdown_amount=_money(result.max_drawdown_amount),
        undefined_reason=result.undefined_reason,
    )  # fmt: skip
    curve = [
        EquityPointRead(
            ts=format_ts(p.ts), kind=p.kind,
            change=_money(p.change), equity=_money(p.equity), growth=p.growth,
            drawdown=p.drawdown,
        )
        for p in result.points
    ]  # fmt: skip
    return AccountEquity(account_id=account.id, currency=base, summary=summary, curve=curve)


# -- FX rates ---------------------------------------------------------------------------


def _rate_read(rate: FxRate) -> FxRateRead:
    return FxRateRead(
        id=rate.id, base=rate.base, quote=rate.quote, day=rate.day, rate=float(rate.rate),
        updated_at=rate.updated_at,
    )  # fmt: skip


def list_fx_rates(
    session: Session, user_id: int, base: str | None, quote: str | None
) -> list[FxRateRead]:
    return [_rate_read(r) for r in repository.list_fx_rates(session, user_id, base, quote)]


def put_fx_rate(session: Session, user_id: int, data: FxRateWrite) -> tuple[FxRateRead, bool]:
    """Set the day's rate of the pair; True when it was not there before."""
    if data.base == data.quote:
        raise InvalidPayload(f"quote: must differ from base, got {data.base}/{data.quote}")
    rate = repository.fx_rate(session, user_id, data.base, data.quote, data.day)
    value = Decimal(repr(data.rate)).quantize(_QUANTUM)
    created = rate is None
    if rate is None:
        rate = FxRate(user_id=user_id, base=data.base, quote=data.quote, day=data.day, rate=value)
        session.add(rate)
    else:
        rate.rate = value
        rate.updated_at = utcnow()
    session.flush()
    return _rate_read(rate), created


def delete_fx_rate(session: Session, user_id: int, rate_id: int) -> None:
    rate = repository.fx_rate_by_id(session, user_id, rate_id)
    if rate is None:
        raise NotFound(f"FX rate {rate_id} not found")
    session.delete(rate)
    session.flush()
