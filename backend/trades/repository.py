"""Every query of the trades feature."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from sqlalchemy import BigInteger, and_, bindparam, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from backend.db.engine import driver_rows
from backend.db.models import (
    Execution,
    Instrument,
    Order,
    StrategyRun,
    Trade,
    TradeFill,
    User,
)
from backend.ingest.sql import Dialect
from backend.playbooks.expressions import has_mistake, playbook_is, review_is
from backend.trades.changes import Changes
from backend.trades.incremental import StoredTrade
from backend.trades.reconstruct import SCALE
from backend.trades.risk import PLACEMENT_GRACE_NS, StopOrder


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
    session: Session,
    run_id: int,
    account: str,
    symbol: str,
    from_ts: int,
    limit: int | None = None,
) -> list[StoredTrade]:
    """The position's trades that are open or end at or after `from_ts`: the one that
    entered before it and had not ended by then, and those entering from it on (all, or
    the first `limit` of them by entry). Each read through an index of its own, so a
    slice of a long position reads what it replaces, not the whole position."""
    crossing = (
        "EXISTS (SELECT 1 FROM trade_fill f WHERE f.execution_id = t.id AND f.role = 'exit'"
        " AND f.trade_id <> t.id)"
    )
    select_ = (
        f"SELECT t.id, t.entry_ts, t.exit_ts, {crossing} FROM trade t"
        " WHERE t.run_id = ? AND t.account = ? AND t.symbol = ? AND "
    )
    position = (run_id, account, symbol)
    # Trades follow each other: of those that entered before from_ts, only the last can
    # still be open or end after it (ties at one time: a few). Read by entry, backwards:
    # by exit, from from_ts on, the read went over every later trade of the position.
    rows = [
        row
        for row in driver_rows(
            session,
            select_ + "t.entry_ts < ? ORDER BY t.entry_ts DESC, t.id DESC LIMIT 3",
            (*position, from_ts),
        )
        if row[2] is not None and row[2] >= from_ts
    ]
    # The open one, by the exit index (with entry_ts < ? in SQL, SQLite reads every trade
    # entered before from_ts: quadratic over the slices of a long position).
    known = {row[0] for row in rows}
    rows += [
        row
        for row in driver_rows(session, select_ + "t.exit_ts IS NULL", position)
        if row[1] < from_ts and row[0] not in known
    ]
    # Whether a trade was opened by a crossing fill matters only for one that entered
    # before from_ts (incremental.plan_rebuild): the later ones skip that lookup, a third
    # of a long position's re-derivation read.
    later = (
        "SELECT t.id, t.entry_ts, t.exit_ts, 0 FROM trade t"
        " WHERE t.run_id = ? AND t.account = ? AND t.symbol = ? AND"
        " t.entry_ts >= ? ORDER BY t.entry_ts, t.id"
    )
    params: tuple[Any, ...] = (*position, from_ts)
    if limit is not None:
        later, params = later + " LIMIT ?", (*params, limit)
    rows += driver_rows(session, later, params)
    return [StoredTrade(r[0], r[1], r[2], bool(r[3])) for r in rows]


def trade_ids_from(
    session: Session, run_id: int, account: str, symbol: str, from_ts: int
) -> list[int]:
    """Ids of the position's trades entering at or after `from_ts`."""
    sql = "SELECT id FROM trade WHERE run_id = ? AND account = ? AND symbol = ? AND entry_ts >= ?"
    return [row[0] for row in driver_rows(session, sql, (run_id, account, symbol, from_ts))]


def user_annotations(session: Session, trade_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The notes, tags and setup a user gave the trades (those that have any)."""
    found: dict[int, dict[str, Any]] = {}
    for marks, chunk in _in_chunks(trade_ids):
        sql = f"SELECT id, notes, tags, setup FROM trade WHERE id IN ({marks})"
        for pk, notes, raw_tags, setup in driver_rows(session, sql, chunk):
            tags = orjson.loads(raw_tags) if isinstance(raw_tags, str | bytes) else raw_tags
            if notes is not None or setup is not None or tags:
                found[pk] = {"notes": notes, "tags": tags, "setup": setup}
    return found


def delete_trades(session: Session, trade_ids: Sequence[int]) -> None:
    connection = session.connection()
    dialect = Dialect(connection.dialect.name)
    for marks, chunk in _in_chunks(trade_ids):
        connection.exec_driver_sql(
            dialect.q(f"DELETE FROM trade_fill WHERE trade_id IN ({marks})"), tuple(chunk)
        )
        connection.exec_driver_sql(dialect.q(f"DELETE FROM trade WHERE id IN ({marks})"),
                                   tuple(chunk))  # fmt: skip


def _in_chunks(values: Sequence[Any]) -> Iterator[tuple[str, Sequence[Any]]]:
    """`values` in chunks for `IN (...)`, each with its `?` marks."""
    for start in range(0, len(values), _IN_CHUNK):
        chunk = values[start : start + _IN_CHUNK]
        yield ", ".join("?" * len(chunk)), chunk


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
    return driver_rows(session, sql, params)


def stop_orders(
    session: Session,
    run_id: int,
    symbol: str,
    first_entry: int,
    last_entry: int,
    entry_orders: set[str],
) -> list[StopOrder]:
    """The run's stop and stop-limit orders on `symbol` that can be the initial stop of a
    trade entered between `first_entry` and `last_entry` (risk.initial_stop): placed by the
    last entry (+ grace) and not finished before the first, or linked to an entry order.
    Each with when it was placed, first finished and its first stop price (the ingest
    writer keeps those on the order's row), in the order they were stored."""
    select_ = (
        "SELECT id, order_id, side, order_type, parent_id, created_ts, finished_ts,"
        ' first_stop_price, symbol FROM "order" WHERE run_id = ?'
        " AND order_type IN ('stop', 'stop_limit') AND "
    )
    placed_by = last_entry + PLACEMENT_GRACE_NS
    # Each reads through an index of migration 0010: (run_id, symbol, finished_ts), the
    # partial one of orders never finished, (run_id, parent_id).
    queries: list[tuple[str, tuple[Any, ...]]] = [
        (select_ + "symbol = ? AND finished_ts > ? AND created_ts <= ?",
         (run_id, symbol, first_entry, placed_by)),
        (select_ + "symbol = ? AND finished_ts IS NULL AND created_ts <= ?",
         (run_id, symbol, placed_by)),
    ]  # fmt: skip
    # A linked stop the two reads above return is not read again (with a bracket per
    # entry, every stop is linked: reading them twice cost a third of the risk stage).
    seen = " AND NOT (symbol = ? AND created_ts <= ? AND (finished_ts IS NULL OR finished_ts > ?))"
    ids = sorted(entry_orders)
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        queries.append((select_ + f"parent_id IN ({marks})" + seen,
                        (run_id, *chunk, symbol, placed_by, first_entry)))  # fmt: skip
    found: dict[int, Any] = {}
    for sql, params in queries:
        found.update((row[0], row) for row in driver_rows(session, sql, params))
    return [StopOrder(*row[1:8]) for _pk, row in sorted(found.items()) if row[8] == symbol]


_IN_CHUNK = 5000  # ids in one IN (...): well inside SQLite's and PostgreSQL's limits


# The columns of a derived trade row, in order; the user's annotations (notes, tags, setup)
# follow them when the row is written.
TRADE_COLUMNS = (
    "id", "user_id", "run_id", "account", "symbol", "direction", "qty", "max_position",
    "entry_ts", "exit_ts", "entry_price", "exit_price", "gross_pnl", "commission", "net_pnl",
    "mfe", "mae", "mfe_amount", "mae_amount", "exit_efficiency", "initial_risk", "r_multiple",
    "regime_trend", "regime_volatility", "is_open", "extra", "updated_at", "multiplier",
)  # fmt: skip
_ANNOTATIONS = ("notes", "tags", "setup")
_PART_COLUMNS = ("trade_id", "execution_id", "role", "qty", "commission")
PartRow = tuple[int, int, str, float, int]  # _PART_COLUMNS; the commission in 1e-8 units


def insert_trade_rows(
    session: Session,
    rows: Sequence[tuple[Any, ...]],
    parts: Sequence[PartRow],
    annotations: dict[int, dict[str, Any]],
) -> None:
    """Driver-level executemany of ready tuples (TRADE_COLUMNS values as the driver binds
    them), each with its trade's annotations from `annotations` (by id) or none."""
    connection = session.connection()
    dialect = Dialect(connection.dialect.name)

    def insert(table: str, columns: Sequence[str], values: Sequence[tuple[Any, ...]]) -> None:
        names, marks = ", ".join(columns), ", ".join("?" * len(columns))
        sql = dialect.q(f"INSERT INTO {table} ({names}) VALUES ({marks})")
        connection.exec_driver_sql(sql, list(values))

    if rows:
        bare = (None, "[]", None)

        def annotated(row: tuple[Any, ...]) -> tuple[Any, ...]:
            kept = annotations.get(row[0])
            if kept is None:
                return row + bare
            return row + (kept["notes"], orjson.dumps(kept["tags"] or []).decode(), kept["setup"])

        insert("trade", TRADE_COLUMNS + _ANNOTATIONS, [annotated(row) for row in rows])
    if parts:
        insert("trade_fill", _PART_COLUMNS, part_values(dialect, parts))


def part_values(dialect: Dialect, parts: Sequence[PartRow]) -> list[tuple[Any, ...]]:
    """Part rows as the driver binds them (and returns them): the commission a float on
    SQLite (int / int is correctly rounded: float(Decimal) of the same), a Decimal on
    PostgreSQL."""
    if dialect.is_sqlite:
        return [(t, e, r, q, c / SCALE) for t, e, r, q, c in parts]
    return [(t, e, r, q, Decimal(c).scaleb(-8)) for t, e, r, q, c in parts]


# TRADE_COLUMNS as stored, without updated_at; the `extra` JSON as its text.
STAMP = TRADE_COLUMNS.index("updated_at")
TIME_KEYS = (TRADE_COLUMNS.index("entry_ts"), TRADE_COLUMNS.index("exit_ts"))
_STORED = TRADE_COLUMNS[:STAMP] + TRADE_COLUMNS[STAMP + 1 :]
# Columns no index covers (nor the key of the position): what an update writes.
_LOOSE = tuple(c for c in TRADE_COLUMNS[5:] if c not in ("entry_ts", "exit_ts"))


def derived_rows(session: Session, trade_ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """The stored trades of `trade_ids` (those that exist) as changes.diff compares them."""
    dialect = Dialect(session.connection().dialect.name)
    names = ", ".join(c if dialect.is_sqlite or c != "extra" else "CAST(extra AS TEXT)"
                      for c in _STORED)  # fmt: skip
    found: dict[int, tuple[Any, ...]] = {}
    for marks, chunk in _in_chunks(sorted(trade_ids)):
        sql = f"SELECT {names} FROM trade WHERE id IN ({marks})"
        found.update((row[0], tuple(row)) for row in driver_rows(session, sql, chunk))
    return found


def stored_parts(session: Session, trade_ids: Sequence[int]) -> dict[tuple[int, int], Any]:
    """(trade_id, execution_id) -> (role, qty, commission) of the trades' fill parts."""
    found: dict[tuple[int, int], Any] = {}
    for marks, chunk in _in_chunks(sorted(trade_ids)):
        sql = f"SELECT {', '.join(_PART_COLUMNS)} FROM trade_fill WHERE trade_id IN ({marks})"
        found.update(((r[0], r[1]), (r[2], r[3], r[4])) for r in driver_rows(session, sql, chunk))
    return found


def write_changes(session: Session, changes: Changes) -> None:
    """Apply changes.diff's result: delete what is gone, update in place what stays (the
    user's notes, tags and setup untouched), insert what is new."""
    connection = session.connection()
    dialect = Dialect(connection.dialect.name)

    def many(sql: str, values: list[tuple[Any, ...]]) -> None:
        if values:
            connection.exec_driver_sql(dialect.q(sql), values)

    many("DELETE FROM trade_fill WHERE trade_id = ? AND execution_id = ?",
         list(changes.delete_parts))  # fmt: skip
    if changes.delete:
        delete_trades(session, changes.delete)
    at = {c: i for i, c in enumerate(TRADE_COLUMNS)}
    for rows, columns in ((changes.update, _LOOSE),
                          (changes.move, ("entry_ts", "exit_ts", *_LOOSE))):  # fmt: skip
        sets = ", ".join(f"{c} = ?" for c in columns)
        many(f"UPDATE trade SET {sets} WHERE id = ?",
             [tuple(row[at[c]] for c in columns) + (row[0],) for row in rows])  # fmt: skip
    insert_trade_rows(session, changes.insert, [], {})
    many(f"INSERT INTO trade_fill ({', '.join(_PART_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",
         list(changes.insert_parts))  # fmt: skip


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
    review: str | None = None  # new, reviewed
    mistake: int | None = None  # a mistake id the trade is tagged with
    playbook: int | str | None = None  # the trade's playbook id, or "none" for no playbook


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
    if where.review is not None:
        query = query.where(review_is(where.review))
    if where.mistake is not None:
        query = query.where(has_mistake(where.mistake))
    if where.playbook is not None:
        query = query.where(playbook_is(None if where.playbook == "none" else int(where.playbook)))
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


def next_trade(session: Session, where: TradeFilter, after: tuple[int, int] | None) -> int | None:
    """The id of the first closed trade `where` matches after (entry_ts, id) `after`."""
    query = _matching(select(Trade.id), where, session.get_bind().dialect.name).where(
        Trade.is_open.is_(False)
    )
    if after is not None:
        ts, row_id = after
        query = query.where(or_(Trade.entry_ts > ts, and_(Trade.entry_ts == ts, Trade.id > row_id)))
    found = session.scalar(query.order_by(Trade.entry_ts, Trade.id).limit(1))
    return None if found is None else int(found)


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
