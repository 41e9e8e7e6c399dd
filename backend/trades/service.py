"""Reading and annotating trades, always scoped to the caller's user."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from backend.db.models import Trade
from backend.errors import InvalidPayload, NotFound
from backend.ingest.domain import NS_PER_SECOND
from backend.ingest.timestamps import format_ts
from backend.market import repository as bars
from backend.market.resample import resample
from backend.market.timeframes import format_timeframe
from backend.playbooks import repository as journals
from backend.playbooks.service import trade_journal
from backend.runs.pagination import Page, decode_cursor_value, encode_cursor
from backend.trades import repository
from backend.trades.reconstruct import units
from backend.trades.repository import SORTS, TradeFilter
from backend.trades.schemas import (
    ChartBars,
    RegimeRead,
    TradeDetail,
    TradeFillRead,
    TradeListItem,
    TradeOrderRead,
    TradeRead,
    TradeTotals,
    TradeUpdate,
)
from backend.trades.totals import totals

CHART_MAX_BARS = 1500


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


_TIME_SORTS = ("entry_ts", "exit_ts")
_INT64 = 2**63


def _cursor_for(key: str, after: tuple[object, int] | None) -> tuple[object, int] | None:
    """The cursor's value as the sort column holds it; 422 for a value no page of this sort
    could have returned (a crafted cursor is a bad parameter, not a 500)."""
    if after is None:
        return None
    value, row_id = after
    if isinstance(value, bool) or not -_INT64 <= row_id < _INT64:
        raise InvalidPayload("cursor: not a cursor this API returned")
    if value is None:
        return after
    if key in _TIME_SORTS and isinstance(value, int) and -_INT64 <= value < _INT64:
        return after
    if key == "net_pnl" and isinstance(value, str):  # a money column's Decimal, as text
        try:
            amount = Decimal(value)
        except ArithmeticError:
            amount = None
        if amount is not None and amount.is_finite():
            return amount, row_id
    if key not in _TIME_SORTS and key != "net_pnl" and isinstance(value, int | float):
        if isinstance(value, float) or -_INT64 <= value < _INT64:
            return after
    raise InvalidPayload(f"cursor: not a cursor this API returned for sort {key!r}")


class Marks:
    """Last closes per symbol, looked up once per request, to mark open trades."""

    def __init__(self, session: Session, user_id: int) -> None:
        self.session, self.user_id = session, user_id
        self._closes: dict[str, float | None] = {}

    def close(self, symbol: str) -> float | None:
        if symbol not in self._closes:
            series = bars.series_by_timeframe(self.session, self.user_id, symbol)
            self._closes[symbol] = (
                bars.last_close(self.session, series[min(series)]) if series else None
            )
        return self._closes[symbol]


def unrealised_pnl(
    direction: str, open_qty: float, entry_price: float, mark: float, multiplier: float
) -> float:
    """An open trade's open quantity marked at `mark`, in currency (exact in 1e-8 units);
    the report computes it from its own rows (backend/analytics/report.py)."""
    sign = 1 if direction == "long" else -1
    move = (Decimal(units(mark)) - Decimal(units(entry_price))) / 10**8
    return float(move * Decimal(str(open_qty)) * sign * Decimal(str(multiplier)))


def _trade_read(trade: Trade, marks: Marks, multiplier: float = 1.0) -> dict[str, Any]:
    mark = marks.close(trade.symbol) if trade.is_open else None
    unrealised = None
    if trade.is_open and mark is not None:
        open_qty = (trade.extra or {}).get("open_qty", trade.qty)
        unrealised = unrealised_pnl(
            trade.direction, open_qty, float(trade.entry_price), mark, multiplier
        )
    hold = (trade.exit_ts - trade.entry_ts) / NS_PER_SECOND if trade.exit_ts else None
    return {
        "id": trade.id, "run_id": trade.run_id, "account": trade.account, "symbol": trade.symbol,
        "direction": trade.direction, "qty": trade.qty, "max_position": trade.max_position,
        "entry_ts": format_ts(trade.entry_ts),
        "exit_ts": format_ts(trade.exit_ts) if trade.exit_ts is not None else None,
        "hold_seconds": hold, "entry_price": float(trade.entry_price),
        "exit_price": _float(trade.exit_price), "gross_pnl": float(trade.gross_pnl),
        "commission": float(trade.commission), "net_pnl": float(trade.net_pnl),
        "multiplier": trade.multiplier, "unrealised_pnl": unrealised, "mark_price": mark,
        "mfe": trade.mfe, "mae": trade.mae,
        "mfe_amount": _float(trade.mfe_amount), "mae_amount": _float(trade.mae_amount),
        "exit_efficiency": trade.exit_efficiency, "initial_risk": _float(trade.initial_risk),
        "initial_stop": (trade.extra or {}).get("initial_stop"), "r_multiple": trade.r_multiple,
        "regime": RegimeRead(
            trend=trade.regime_trend, volatility=trade.regime_volatility,
            method=(trade.extra or {}).get("regime_method"),
            version=(trade.extra or {}).get("regime_version"),
        ),
        "open": trade.is_open, "notes": trade.notes, "tags": trade.tags or [],
        "setup": trade.setup,
    }  # fmt: skip


def list_trades(
    session: Session,
    where: TradeFilter,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
) -> Page[TradeRead]:
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in SORTS:
        raise InvalidPayload(f"sort: must be one of {', '.join(SORTS)} (prefix - to reverse)")
    after = _cursor_for(key, decode_cursor_value(cursor))
    rows = repository.list_trades(
        session, where, sort=key, descending=descending, after=after, limit=limit + 1
    )
    marks = Marks(session, where.user_id)
    multipliers: dict[str, float] = {}
    items = []
    for trade in rows[:limit]:
        if trade.symbol not in multipliers:
            multipliers[trade.symbol] = repository.instrument(session, where.user_id, trade.symbol)[
                0
            ]
        items.append(TradeRead.model_validate(_trade_read(trade, marks, multipliers[trade.symbol])))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        value = getattr(last, key)
        next_cursor = encode_cursor(str(value) if isinstance(value, Decimal) else value, last.id)
    return Page(items=items, next_cursor=next_cursor)


def list_trade_items(
    session: Session,
    where: TradeFilter,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
) -> Page[TradeListItem]:
    """`list_trades` with each trade's review state, playbook and mistakes."""
    page = list_trades(session, where, sort=sort, cursor=cursor, limit=limit)
    ids = [item.id for item in page.items]
    playbooks = journals.trade_playbooks(session, ids)
    states = journals.review_states(session, ids)
    mistakes = journals.trade_mistakes(session, ids)
    items = [
        TradeListItem(
            **item.model_dump(),
            review_state="reviewed" if states.get(item.id) == "reviewed" else "new",
            playbook_id=playbooks.get(item.id, (None, None))[0],
            mistakes=[m.name for m in mistakes.get(item.id, [])],
        )
        for item in page.items
    ]
    return Page(items=items, next_cursor=page.next_cursor)


def next_unreviewed(session: Session, where: TradeFilter, after: int | None) -> int | None:
    """The first closed trade `where` matches that is not reviewed, after trade `after`
    (by entry time, then id); from the first when `after` is None."""
    key = None
    if after is not None:
        trade = repository.get_trade(session, where.user_id, after)
        if trade is None:
            raise NotFound(f"trade {after} not found")
        key = (trade.entry_ts, trade.id)
    return repository.next_trade(session, replace(where, review="new"), key)


def trade_totals(session: Session, where: TradeFilter) -> TradeTotals:
    """Totals of every trade `where` matches, computed exactly (backend/trades/totals.py)."""
    result = totals(repository.totals_columns(session, where))
    fields = {name: getattr(result, name) for name in TradeTotals.model_fields}
    return TradeTotals.model_validate(
        {name: float(v) if isinstance(v, Decimal) else v for name, v in fields.items()}
    )


def get_trade(session: Session, user_id: int, trade_id: int) -> TradeDetail:
    """One trade with its fills, related orders and the bars around it."""
    trade = repository.get_trade(session, user_id, trade_id)
    if trade is None:
        raise NotFound(f"trade {trade_id} not found")
    multiplier = repository.instrument(session, user_id, trade.symbol)[0]
    base = _trade_read(trade, Marks(session, user_id), multiplier)
    fills = [
        TradeFillRead(
            seq=execution.id, id=execution.exec_id, order_id=execution.order_id,
            ts=format_ts(execution.ts), side=execution.side, role=role, qty=qty,
            fill_qty=execution.qty, price=execution.price, commission=float(commission),
        )
        for execution, role, qty, commission in repository.trade_fills(session, trade.id)
    ]  # fmt: skip
    order_ids = sorted({f.order_id for f in fills if f.order_id})
    orders = [
        TradeOrderRead(
            order_id=o.order_id, side=o.side, order_type=o.order_type, qty=o.qty,
            status=o.status, limit_price=o.limit_price, stop_price=o.stop_price,
            parent_id=o.parent_id, created_ts=format_ts(o.created_ts), ts=format_ts(o.ts),
        )
        for o in repository.related_orders(session, trade.run_id, order_ids)
    ]  # fmt: skip
    return TradeDetail.model_validate(
        {
            **base,
            "fills": fills,
            "orders": orders,
            "bars": _chart(session, user_id, trade),
            "journal": trade_journal(session, trade),
        }  # fmt: skip
    )


def _chart(session: Session, user_id: int, trade: Trade) -> ChartBars | None:
    """Bars around the trade: its life plus as much again on each side (at least 30 bars)."""
    series = bars.series_by_timeframe(session, user_id, trade.symbol)
    if not series:
        return None
    timeframe_s = min(series)
    step = timeframe_s * NS_PER_SECOND
    end_ts = trade.exit_ts if trade.exit_ts is not None else trade.entry_ts
    pad = max(end_ts - trade.entry_ts, 30 * step)
    ts, opens, high, low, close = bars.price_arrays(
        session, series[timeframe_s], trade.entry_ts - pad, end_ts + pad + step
    )
    if len(ts) == 0:
        return None
    columns: dict[str, Any] = {"ts": ts, "open": opens, "high": high, "low": low, "close": close}
    if len(ts) > CHART_MAX_BARS:  # coarser bars, whole multiples of the stored timeframe
        factor = -(-len(ts) // CHART_MAX_BARS)
        timeframe_s *= factor
        columns = resample(ts, opens, high, low, close, None, timeframe_s)
    return ChartBars(
        timeframe=format_timeframe(timeframe_s),
        ts=[int(v) for v in columns["ts"]],
        open=np.asarray(columns["open"]).tolist(),
        high=np.asarray(columns["high"]).tolist(),
        low=np.asarray(columns["low"]).tolist(),
        close=np.asarray(columns["close"]).tolist(),
    )


def update_trade(session: Session, user_id: int, trade_id: int, data: TradeUpdate) -> TradeRead:
    trade = repository.get_trade(session, user_id, trade_id)
    if trade is None:
        raise NotFound(f"trade {trade_id} not found")
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(trade, name, value if name != "tags" else (value or []))
    session.flush()
    multiplier = repository.instrument(session, user_id, trade.symbol)[0]
    return TradeRead.model_validate(_trade_read(trade, Marks(session, user_id), multiplier))
