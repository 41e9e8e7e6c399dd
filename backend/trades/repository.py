"""Every query of the trades feature."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import BigInteger, and_, bindparam, cast, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from backend.db.models import (
    Execution,
    Instrument,
    Order,
    OrderEvent,
    StrategyRun,
    Trade,
    TradeFill,
    User,
)
from backend.ingest.sql import Dialect
from backend.trades.incremental import StoredTrade
from backend.trades.reconstruct import SCALE
from backend.trades.risk import FINISHED, StopOrder


def instrument(session: Session, user_id: int, symbol: str) -> tuple[float, float | None]:
    """(multiplier, default risk distance) of a symbol; a symbol never described is 1, None."""
    row = session.execute(_instrument_query(), {"user_id": user_id, "symbol": symbol}).first()
    return (float(row[0]), row[1]) if row else (1.0, None)


@cache
def _instrument_query() -> Any:
    return select(Instrument.multiplier, Instrument.default_risk).where(
        Instrument.user_id == bindparam("user_id"), Instrument.symbol == bindparam("symbol")
    )


def regime_method(session: Session, user_id: int) -> str:
    """The regime method the user chose for tagging trades."""
    return session.scalar(select(User.regime_method).where(User.id == user_id)) or "rules"


def _position(run_id: Any, account: Any, symbol: Any) -> Any:
    return and_(Trade.run_id == run_id, Trade.account == account, Trade.symbol == symbol)


def stored_trades(
    session: Session, run_id: int, account: str, symbol: str, from_ts: int
) -> list[StoredTrade]:
    """The position's trades that are open or end at or after `from_ts`."""
    params = {"run_id": run_id, "account": account, "symbol": symbol, "from_ts": from_ts}
    rows = session.execute(_stored_trades_query(), params)
    return [StoredTrade(r[0], r[1], r[2], bool(r[3])) for r in rows]


@cache
def _stored_trades_query() -> Any:
    crossing = exists().where(
        TradeFill.execution_id == Trade.id, TradeFill.role == "exit", TradeFill.trade_id != Trade.id
    )
    return select(Trade.id, Trade.entry_ts, Trade.exit_ts, crossing).where(
        _position(bindparam("run_id"), bindparam("account"), bindparam("symbol")),
        or_(Trade.exit_ts.is_(None), Trade.exit_ts >= bindparam("from_ts")),
    )


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


# A fill as the replay reads it: (seq, ts, side, qty, price, commission, order_id)
ReplayRow = tuple[int, int, str, float, float, float, str | None]


def crossing_entry(session: Session, trade_id: int) -> ReplayRow:
    """The fill that opened trade `trade_id` by crossing zero, with the qty and commission
    of the part it opened with (from flat, that part opens the same trade)."""
    row = session.execute(_crossing_entry_query(), {"trade_id": trade_id}).one()
    return (row[0], row[1], row[2], float(row[3]), row[4], float(row[5]), row[6])


@cache
def _crossing_entry_query() -> Any:
    return (
        select(
            Execution.id, Execution.ts, Execution.side, TradeFill.qty, Execution.price,
            TradeFill.commission, Execution.order_id,
        )
        .join(TradeFill, TradeFill.execution_id == Execution.id)
        .where(
            TradeFill.trade_id == bindparam("trade_id"),
            TradeFill.execution_id == bindparam("trade_id"),
        )
    )  # fmt: skip


def replay(
    session: Session,
    run_id: int,
    account: str,
    symbol: str,
    key: tuple[int, int],
    *,
    inclusive: bool,
    limit: int | None = None,
) -> list[ReplayRow]:
    """`fills` as the driver's tuples, with each fill's order id: a rebuild's hot path;
    the first `limit` of them when given."""
    connection = session.connection()
    dialect = Dialect(connection.dialect.name)
    ts, seq = key
    sql = (
        "SELECT id, ts, side, qty, price, commission, order_id FROM execution"
        " WHERE run_id = ? AND account = ? AND symbol = ? AND removed_at IS NULL"
        f" AND ts >= ? AND (ts > ? OR (ts = ? AND id {'>=' if inclusive else '>'} ?))"
        " ORDER BY ts, id"
    )
    params: tuple[Any, ...] = (run_id, account, symbol, ts, ts, ts, seq)
    if limit is not None:
        sql += " LIMIT ?"
        params += (limit,)
    rows: list[Any] = list(connection.exec_driver_sql(dialect.q(sql), params).fetchall())
    return rows


def _first_event(column: str, conditions: Callable[[Any], tuple[Any, ...]]) -> Any:
    """The value of `column` in an order's first event meeting `conditions` (a subquery)."""
    event = aliased(OrderEvent)
    value = getattr(event, column)
    return (
        select(value)
        .where(event.run_id == Order.run_id, event.order_id == Order.order_id, *conditions(event))
        .order_by(event.ts, event.id)
        .limit(1)
        .scalar_subquery()
    )


@cache
def _stop_orders_query() -> Any:
    """Built once: its aliased subqueries cost milliseconds to construct, every rebuild."""
    placed = _first_event("ts", lambda _event: ())
    finished = _first_event("ts", lambda e: (e.status.in_(FINISHED),))
    stop = _first_event("stop_price", lambda e: (e.stop_price.is_not(None),))
    return select(
        Order.order_id, Order.side, Order.order_type, Order.parent_id, placed, finished, stop
    ).where(
        Order.run_id == bindparam("run_id"),
        Order.symbol == bindparam("symbol"),
        Order.order_type.in_(("stop", "stop_limit")),
    )


def stop_orders(session: Session, run_id: int, symbol: str) -> list[StopOrder]:
    """The run's stop and stop-limit orders on `symbol` with when they were placed and finished."""
    rows = session.execute(_stop_orders_query(), {"run_id": run_id, "symbol": symbol})
    return [StopOrder(*row) for row in rows]


_TRADE_COLUMNS = (
    "id", "user_id", "run_id", "account", "symbol", "direction", "qty", "max_position",
    "entry_ts", "exit_ts", "entry_price", "exit_price", "gross_pnl", "commission", "net_pnl",
    "mfe", "mae", "mfe_amount", "mae_amount", "exit_efficiency", "initial_risk", "r_multiple",
    "regime_trend", "regime_volatility", "is_open", "notes", "tags", "setup", "extra",
    "updated_at",
)  # fmt: skip
_MONEY_COLUMNS = (
    "entry_price", "exit_price", "gross_pnl", "commission", "net_pnl", "mfe_amount",
    "mae_amount", "initial_risk",
)  # fmt: skip
_PART_COLUMNS = ("trade_id", "execution_id", "role", "qty", "commission")
PartRow = tuple[int, int, str, float, int]  # _PART_COLUMNS; the commission in 1e-8 units


def insert_trades(session: Session, trades: list[dict[str, Any]], parts: list[PartRow]) -> None:
    """Driver-level executemany of tuples: Core's per-row parameter processing cost more
    than the insert itself (a rebuild writes every trade of the replayed stretch)."""
    connection = session.connection()
    dialect = Dialect(connection.dialect.name)

    def json_text(raw: Any) -> str:
        return orjson.dumps(raw).decode()

    def money(raw: Decimal | None) -> Any:  # sqlite3 cannot bind Decimal; psycopg can
        return None if raw is None else float(raw)

    convert: dict[str, Callable[[Any], Any]] = {
        "tags": json_text, "extra": json_text, "updated_at": lru_cache(4)(dialect.timestamp),
    }  # fmt: skip
    if dialect.is_sqlite:
        for column in _MONEY_COLUMNS:
            convert[column] = money

    def insert(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        names, marks = ", ".join(columns), ", ".join("?" * len(columns))
        sql = dialect.q(f"INSERT INTO {table} ({names}) VALUES ({marks})")
        connection.exec_driver_sql(sql, rows)

    if trades:
        values = itemgetter(*_TRADE_COLUMNS)  # a row's values in column order, in C
        fixes = [(i, convert[c]) for i, c in enumerate(_TRADE_COLUMNS) if c in convert]
        rows_: list[tuple[Any, ...]] = []
        for trade in trades:
            row = list(values(trade))
            for i, fn in fixes:
                row[i] = fn(row[i])
            rows_.append(tuple(row))
        insert("trade", _TRADE_COLUMNS, rows_)
    if parts:
        rows: list[tuple[Any, ...]]
        if dialect.is_sqlite:  # int / int is correctly rounded: float(Decimal) of the same
            rows = [(t, e, r, q, c / SCALE) for t, e, r, q, c in parts]
        else:
            rows = [(t, e, r, q, Decimal(c).scaleb(-8)) for t, e, r, q, c in parts]
        insert("trade_fill", _PART_COLUMNS, rows)


# -- reading ----------------------------------------------------------------------------

SORTS: dict[str, Any] = {
    "entry_ts": Trade.entry_ts,
    "exit_ts": Trade.exit_ts,
    "net_pnl": Trade.net_pnl,
    "r_multiple": Trade.r_multiple,
    "mfe": Trade.mfe,
    "mae": Trade.mae,
    "qty": Trade.qty,
}


@dataclass(frozen=True)
class TradeFilter:
    user_id: int
    run_id: int | None = None
    mode: str | None = None
    symbol: str | None = None
    direction: str | None = None
    outcome: str | None = None  # win, loss, breakeven
    status: str | None = None  # open, closed
    trend: str | None = None
    volatility: str | None = None
    start: int | None = None  # entry time, inclusive
    end: int | None = None  # entry time, exclusive
    tag: str | None = None  # one of the trade's tags, exactly
    setup: str | None = None  # the trade's setup, exactly


def _matching(query: Any, where: TradeFilter, dialect: str) -> Any:
    """`query` narrowed to the trades `where` describes (always the caller's own)."""
    query = query.where(Trade.user_id == where.user_id)
    if where.run_id is not None:
        query = query.where(Trade.run_id == where.run_id)
    if where.mode is not None:
        query = query.join(StrategyRun, StrategyRun.id == Trade.run_id).where(
            StrategyRun.mode == where.mode
        )
    for column, value in (
        (Trade.symbol, where.symbol),
        (Trade.direction, where.direction),
        (Trade.regime_trend, where.trend),
        (Trade.regime_volatility, where.volatility),
        (Trade.setup, where.setup),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.tag is not None:
        query = query.where(_has_tag(where.tag, dialect))
    if where.status is not None:
        query = query.where(Trade.is_open.is_(where.status == "open"))
    if where.outcome == "win":
        query = query.where(Trade.net_pnl > 0, Trade.is_open.is_(False))
    elif where.outcome == "loss":
        query = query.where(Trade.net_pnl < 0, Trade.is_open.is_(False))
    elif where.outcome == "breakeven":
        query = query.where(Trade.net_pnl == 0, Trade.is_open.is_(False))
    if where.start is not None:
        query = query.where(Trade.entry_ts >= where.start)
    if where.end is not None:
        query = query.where(Trade.entry_ts < where.end)
    return query


def _has_tag(tag: str, dialect: str) -> Any:
    """The trade's JSON list of tags holds `tag` (exactly, case as written)."""
    if dialect == "sqlite":
        elements = func.json_each(Trade.tags).table_valued("value")
    else:
        elements = func.json_array_elements_text(Trade.tags).table_valued("value")
    return exists(select(1).select_from(elements).where(elements.c.value == tag))


def list_trades(
    session: Session,
    where: TradeFilter,
    *,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> Sequence[Trade]:
    query = _matching(select(Trade), where, session.get_bind().dialect.name)
    # Keyset over (sort key, id); a missing value sorts last either way.
    column = SORTS[sort]
    missing = column.is_(None)
    if after is not None:
        value, last_id = after
        tie = Trade.id < last_id if descending else Trade.id > last_id
        if value is None:  # the page ended among the missing values (no MAE, no R, ...)
            query = query.where(missing, tie)
        else:
            beyond = column < value if descending else column > value
            query = query.where(or_(missing, beyond, and_(column == value, tie)))
    order = column.desc() if descending else column.asc()
    query = query.order_by(missing.asc(), order, Trade.id.desc() if descending else Trade.id)
    return session.scalars(query.limit(limit)).all()


def _units(column: Any) -> Any:
    """An amount as an integer of 1e-8, computed by the database (exact on PostgreSQL)."""
    return cast(func.round(column * 100_000_000), BigInteger)


def totals_columns(session: Session, where: TradeFilter) -> Sequence[tuple[Any, ...]]:
    """(is_open, net, gross, commission in 1e-8 units, r_multiple) of every matching trade.

    Summed by the caller in Python integers: exact on both databases and never an
    overflow, however many trades match.
    """
    query = _matching(
        select(
            Trade.is_open, _units(Trade.net_pnl), _units(Trade.gross_pnl),
            _units(Trade.commission), Trade.r_multiple,
        ),
        where,
        session.get_bind().dialect.name,
    )  # fmt: skip
    result = session.connection().execute(query)
    rows = result.cursor.fetchall()
    result.close()
    return rows


def get_trade(session: Session, user_id: int, trade_id: int) -> Trade | None:
    query = select(Trade).where(Trade.id == trade_id, Trade.user_id == user_id)
    return session.scalars(query).one_or_none()


def trade_fills(session: Session, trade_id: int) -> Sequence[Any]:
    return session.execute(
        select(Execution, TradeFill.role, TradeFill.qty, TradeFill.commission)
        .join(TradeFill, TradeFill.execution_id == Execution.id)
        .where(TradeFill.trade_id == trade_id)
        .order_by(Execution.ts, Execution.id, TradeFill.role)
    ).all()


def related_orders(session: Session, run_id: int, order_ids: Sequence[str]) -> Sequence[Order]:
    """The orders of the trade's fills and the orders linked to them by `parent_id`."""
    if not order_ids:
        return []
    query = (
        select(Order)
        .where(Order.run_id == run_id)
        .where(or_(Order.order_id.in_(order_ids), Order.parent_id.in_(order_ids)))
        .order_by(Order.created_ts, Order.id)
    )
    return session.scalars(query).all()
