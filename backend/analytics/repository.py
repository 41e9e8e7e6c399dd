"""Every query of the analytics feature: closed trades with what metrics and breakdowns need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy import BigInteger, Float, Text, and_, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from backend.db.models import Strategy, StrategyInstance, StrategyRun, Trade

TRADE_COLUMNS = (
    Trade.id, Trade.run_id, Trade.symbol, Trade.direction, Trade.entry_ts, Trade.exit_ts,
    Trade.entry_price, Trade.exit_price, Trade.qty, Trade.gross_pnl, Trade.commission,
    Trade.net_pnl, Trade.r_multiple, Trade.mfe, Trade.mae, Trade.regime_trend,
    Trade.regime_volatility, Trade.tags,
)  # fmt: skip


def _units(column: Any) -> ColumnElement[int]:
    """An amount as an integer of 1e-8, computed by the database (exact on PostgreSQL)."""
    return cast(func.round(column * 100_000_000), BigInteger)


COLUMNAR = (
    _units(Trade.net_pnl), _units(Trade.gross_pnl), _units(Trade.commission), Trade.entry_ts,
    Trade.exit_ts, Trade.r_multiple, Trade.mfe, Trade.mae,
    cast(Trade.exit_price - Trade.entry_price, Float), Trade.symbol, Trade.direction,
    Trade.regime_trend, Trade.regime_volatility, Trade.run_id, cast(Trade.tags, Text),
)  # fmt: skip


CHUNK = 5000  # rows fetched from the driver at a time into the columns' arrays


def closed_trade_columns(
    session: Session,
    user_id: int,
    run_ids: Sequence[int] | None = None,
    *,
    where: ColumnElement[bool] | None = None,
    extra: Sequence[tuple[Any, str]] = (),
) -> list[npt.NDArray[Any]]:
    """Closed trades as the columns of COLUMNAR (one array a column), in exit order;
    only those `where` holds for, and the `extra` (column, kind) columns after COLUMNAR's
    (kind: "int", "float" or "label").

    Read CHUNK rows at a time into arrays, so the memory is the arrays' (8 bytes a value)
    plus one chunk of driver tuples, not a tuple of Python objects a trade: the same
    label text (a symbol, a direction, a regime, the tags' JSON) is one str object for
    the whole table. Amounts and times are int64, ratios float64 (NULL: NaN), labels
    object arrays; the tags' JSON text is parsed once per distinct text.
    """
    kinds = (*_KINDS, *(kind for _c, kind in extra))
    selected = (*COLUMNAR, *(column for column, _k in extra))
    query = select(*selected).where(Trade.user_id == user_id, Trade.is_open.is_(False))
    if run_ids is not None:
        query = query.where(Trade.run_id.in_(run_ids))
    if where is not None:
        query = query.where(where)
    result = session.connection().execute(query.order_by(Trade.exit_ts, Trade.entry_ts))
    chunks: list[list[npt.NDArray[Any]]] = [[] for _ in kinds]
    labels: dict[Any, Any] = {}  # one object per distinct label value
    tags: dict[str | None, tuple[str, ...]] = {"[]": (), None: ()}
    try:
        while rows := result.cursor.fetchmany(CHUNK):
            for place, (column, kind) in enumerate(zip(zip(*rows, strict=True), kinds,
                                                       strict=True)):  # fmt: skip
                chunks[place].append(_array(column, kind, labels, tags))
    finally:
        result.close()
    return [
        np.concatenate(parts) if parts else np.empty(0, dtype=_DTYPES[kind])
        for parts, kind in zip(chunks, kinds, strict=True)
    ]


# How each COLUMNAR column is held: amounts and times exact, ratios as floats, the rest labels.
_KINDS = ("int", "int", "int", "int", "int", "float", "float", "float", "float",
          "label", "label", "label", "label", "int", "tags")  # fmt: skip
_DTYPES = {"int": np.int64, "float": np.float64, "label": object, "tags": object}


def _array(
    column: tuple[Any, ...],
    kind: str,
    labels: dict[Any, Any],
    tags: dict[str | None, tuple[str, ...]],
) -> npt.NDArray[Any]:
    if kind == "int":
        return np.array(column, dtype=np.int64)
    if kind == "float":
        return np.array(column, dtype=np.float64)  # None becomes NaN
    array = np.empty(len(column), dtype=object)
    if kind == "label":
        array[:] = [labels.setdefault(value, value) for value in column]
    else:
        for i, text in enumerate(column):
            parsed = tags.get(text)
            if parsed is None:
                parsed = tags[text] = tuple(orjson.loads(text))
            array[i] = parsed
    return array


def closed_trades(
    session: Session, user_id: int, run_ids: Sequence[int] | None = None
) -> Sequence[Any]:
    """Closed trades of the user's runs (or of `run_ids`), as rows of TRADE_COLUMNS."""
    query = select(*TRADE_COLUMNS).where(Trade.user_id == user_id, Trade.is_open.is_(False))
    if run_ids is not None:
        query = query.where(Trade.run_id.in_(run_ids))
    return session.execute(query.order_by(Trade.exit_ts, Trade.id)).all()


def comparable_rows(session: Session, user_id: int, run_id: int) -> list[tuple[Any, ...]]:
    """(id, symbol, direction, entry_ts, exit_ts, entry price, exit price, net P&L) of the
    run's closed trades in exit order, money in integer 1e-8 units, as the driver's tuples
    (a Compare of a 20,000-trade run reads them all; a Row or ORM object each costs more
    than the read)."""
    query = (
        select(Trade.id, Trade.symbol, Trade.direction, Trade.entry_ts, Trade.exit_ts,
               _units(Trade.entry_price), _units(Trade.exit_price), _units(Trade.net_pnl))
        .where(Trade.user_id == user_id, Trade.is_open.is_(False), Trade.run_id == run_id)
        .order_by(Trade.exit_ts, Trade.id)
    )  # fmt: skip
    result = session.connection().execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


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


# A report's trade columns as plain driver values: money as floats (PostgreSQL's numeric to
# float8 is correctly rounded, as float(Decimal) is; SQLite's NUMERIC may hold an integer),
# JSON as its text. backend/analytics/report.py turns them into TradeRead values.
REPORT_MONEY = (
    Trade.entry_price, Trade.exit_price, Trade.gross_pnl, Trade.commission, Trade.net_pnl,
    Trade.mfe_amount, Trade.mae_amount, Trade.initial_risk,
)  # fmt: skip
REPORT_COLUMNS = (
    Trade.id, Trade.run_id, Trade.account, Trade.symbol, Trade.direction, Trade.qty,
    Trade.max_position, Trade.entry_ts, Trade.exit_ts, *(cast(c, Float) for c in REPORT_MONEY),
    Trade.mfe, Trade.mae, Trade.exit_efficiency, Trade.r_multiple, Trade.regime_trend,
    Trade.regime_volatility, Trade.is_open, Trade.notes, cast(Trade.tags, Text), Trade.setup,
    cast(Trade.extra, Text), Trade.multiplier,
)  # fmt: skip


def trade_page(
    session: Session, user_id: int, run_id: int, *, after: tuple[int, int] | None, limit: int
) -> list[tuple[Any, ...]]:
    """Up to `limit` of the run's trades after `after` (entry_ts, id), in that order, as
    driver tuples of REPORT_COLUMNS."""
    query = select(*REPORT_COLUMNS).where(Trade.user_id == user_id, Trade.run_id == run_id)
    if after is not None:
        ts, row_id = after
        query = query.where(or_(Trade.entry_ts > ts, and_(Trade.entry_ts == ts, Trade.id > row_id)))
    result = session.connection().execute(query.order_by(Trade.entry_ts, Trade.id).limit(limit))
    rows: list[tuple[Any, ...]] = list(result.cursor.fetchall())
    result.close()
    return rows
