"""Every query of the accounts feature."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.db.models import (
    Account,
    CashFlow,
    Execution,
    FxRate,
    Instrument,
    MarketBar,
    MarketSeries,
    StrategyRun,
    Trade,
)

# Accounts hold real money: a backtest's fills are a simulation, so account equity and
# risk count the trades of live and paper runs only.
ACCOUNT_MODES = ("live", "paper")
DAY_SECONDS = 86_400


def list_accounts(session: Session, user_id: int) -> Sequence[Account]:
    return session.scalars(
        select(Account).where(Account.user_id == user_id).order_by(Account.name)
    ).all()


def get_account(session: Session, user_id: int, account_id: int) -> Account | None:
    return session.scalar(
        select(Account).where(Account.id == account_id, Account.user_id == user_id)
    )


def account_named(session: Session, user_id: int, name: str) -> Account | None:
    return session.scalar(select(Account).where(Account.user_id == user_id, Account.name == name))


def usage(session: Session, user_id: int, name: str) -> tuple[int, int]:
    """(fills, cash flows) that carry the account's name, removed ones included."""
    fills = session.scalar(
        select(func.count()).where(Execution.user_id == user_id, Execution.account == name)
    )
    flows = session.scalar(
        select(func.count()).where(CashFlow.user_id == user_id, CashFlow.account == name)
    )
    return int(fills or 0), int(flows or 0)


def cash_flows(
    session: Session, user_id: int, name: str, *, include_removed: bool = False
) -> Sequence[CashFlow]:
    query = select(CashFlow).where(CashFlow.user_id == user_id, CashFlow.account == name)
    if not include_removed:
        query = query.where(CashFlow.removed_at.is_(None))
    return session.scalars(query.order_by(CashFlow.ts, CashFlow.id)).all()


def cash_flow(session: Session, user_id: int, name: str, flow_pk: int) -> CashFlow | None:
    return session.scalar(
        select(CashFlow).where(
            CashFlow.id == flow_pk, CashFlow.user_id == user_id, CashFlow.account == name
        )
    )


def cash_flow_by_id(session: Session, user_id: int, source: str, flow_id: str) -> CashFlow | None:
    return session.scalar(
        select(CashFlow).where(
            CashFlow.user_id == user_id, CashFlow.source == source, CashFlow.flow_id == flow_id
        )
    )


def account_trades(session: Session, user_id: int, name: str) -> list[tuple[Any, ...]]:
    """(exit_ts or None, symbol, net units, is_open, direction, entry_price, open_qty,
    multiplier) of the account's trades in live and paper runs."""
    rows = session.execute(
        select(
            Trade.exit_ts, Trade.symbol, Trade.net_pnl, Trade.is_open, Trade.direction,
            Trade.entry_price, Trade.extra, Trade.qty, Trade.multiplier,
        )
        .join(StrategyRun, StrategyRun.id == Trade.run_id)
        .where(
            Trade.user_id == user_id, Trade.account == name, StrategyRun.mode.in_(ACCOUNT_MODES)
        )
        .order_by(Trade.exit_ts, Trade.entry_ts, Trade.id)
    ).all()  # fmt: skip
    return [tuple(row) for row in rows]


def currencies(session: Session, user_id: int, symbols: Sequence[str]) -> dict[str, str | None]:
    if not symbols:
        return {}
    rows = session.execute(
        select(Instrument.symbol, Instrument.currency).where(
            Instrument.user_id == user_id, Instrument.symbol.in_(sorted(set(symbols)))
        )
    )
    return {str(symbol): currency for symbol, currency in rows}


def hand_rates(
    session: Session, user_id: int, pairs: Sequence[tuple[str, str]], first: dt.date
) -> list[tuple[str, str, dt.date, Any]]:
    found: list[tuple[str, str, dt.date, Any]] = []
    for base, quote in sorted(set(pairs)):
        found.extend(
            (base, quote, day, rate)
            for day, rate in session.execute(
                select(FxRate.day, FxRate.rate).where(
                    FxRate.user_id == user_id, FxRate.base == base, FxRate.quote == quote,
                    FxRate.day >= first,
                )
            )
        )  # fmt: skip
    return found


def daily_bars(
    session: Session, user_id: int, symbols: Sequence[str], first_ts: int
) -> list[tuple[str, int, float]]:
    """(symbol, ts, close) of the user's 1d market bars of `symbols` from `first_ts`."""
    if not symbols:
        return []
    return [
        (symbol, int(ts), float(close))
        for symbol, ts, close in session.execute(
            select(MarketSeries.symbol, MarketBar.ts, MarketBar.close)
            .join(MarketBar, MarketBar.series_id == MarketSeries.id)
            .where(
                MarketSeries.user_id == user_id,
                MarketSeries.symbol.in_(sorted(set(symbols))),
                MarketSeries.timeframe_s == DAY_SECONDS,
                MarketBar.ts >= first_ts,
            )
        )
    ]


def list_fx_rates(
    session: Session, user_id: int, base: str | None, quote: str | None
) -> Sequence[FxRate]:
    query = select(FxRate).where(FxRate.user_id == user_id)
    if base is not None:
        query = query.where(FxRate.base == base)
    if quote is not None:
        query = query.where(FxRate.quote == quote)
    return session.scalars(query.order_by(FxRate.base, FxRate.quote, FxRate.day)).all()


def fx_rate(session: Session, user_id: int, base: str, quote: str, day: dt.date) -> FxRate | None:
    return session.scalar(
        select(FxRate).where(
            FxRate.user_id == user_id, FxRate.base == base, FxRate.quote == quote,
            FxRate.day == day,
        )
    )  # fmt: skip


def fx_rate_by_id(session: Session, user_id: int, rate_id: int) -> FxRate | None:
    return session.scalar(select(FxRate).where(FxRate.id == rate_id, FxRate.user_id == user_id))
