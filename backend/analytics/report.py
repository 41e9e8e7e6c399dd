"""A run's report, to keep or share outside Fillbook: one JSON document, or trades as CSV.

The report is written as it is read: the run first, then its metrics and its series
(computed from the closed trades' columns, in one query; the equity points written a page
at a time), then trades and orders in keyset pages of `PAGE` rows, each page serialised
and handed on before the next is read. Every page is
read in the one read transaction the report opened, so the document is one consistent
snapshot (`REPEATABLE READ` on PostgreSQL; on SQLite a deferred read transaction is a
snapshot and takes no write lock). How the snapshot is kept short when the client
reads slowly is `backend/analytics/spool.py`'s part.

The CSV is opened in spreadsheets, and text a client sent (symbol, account, notes, tags,
setup) goes into it. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return would be read as a formula (`=HYPERLINK(...)`, DDE), so such text is written with
a leading `'`, as OWASP's CSV-injection guidance says; the spreadsheet shows it as text.
Numbers are written as numbers: a negative PnL stays `-12.5`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import repeat
from typing import Any, Literal

import numpy as np
import orjson
from sqlalchemy.orm import Session

from backend.analytics import repository, service
from backend.db.engine import Database
from backend.ingest.domain import NS_PER_SECOND
from backend.ingest.timestamps import format_ts_array
from backend.runs import repository as orders
from backend.runs import service as runs
from backend.runs.repository import FillFilter
from backend.trades import repository as trades
from backend.trades.schemas import TradeRead
from backend.trades.service import Marks, unrealised_pnl

Format = Literal["json", "csv"]
PAGE = 2000  # rows read, serialised and handed on at a time
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = (
    "id", "account", "symbol", "direction", "qty", "max_position", "entry_ts", "exit_ts",
    "hold_seconds", "entry_price", "exit_price", "gross_pnl", "commission", "net_pnl",
    "unrealised_pnl", "mfe", "mae", "mfe_amount", "mae_amount", "exit_efficiency",
    "initial_stop", "initial_risk", "r_multiple", "regime_trend", "regime_volatility", "open",
    "setup", "tags", "notes",
)  # fmt: skip


def trade_pages(session: Session, user_id: int, run_id: int) -> Iterator[dict[str, list[Any]]]:
    """The run's trades in entry order (then id), a page at a time, as trade_columns."""
    marks = Marks(session, user_id)
    multipliers: dict[str, float] = {}
    sqlite = session.connection().dialect.name == "sqlite"
    after: tuple[int, int] | None = None
    while True:
        rows = repository.trade_page(session, user_id, run_id, after=after, limit=PAGE)
        if not rows:
            return
        for symbol in {row[3] for row in rows if row[_OPEN]} - multipliers.keys():
            multipliers[symbol] = trades.instrument(session, user_id, symbol)[0]
        yield trade_columns(rows, marks, multipliers, sqlite=sqlite)
        after = (rows[-1][7], rows[-1][0])
        if len(rows) < PAGE:
            return


_OPEN = 23  # is_open's place in repository.REPORT_COLUMNS
TRADE_FIELDS = tuple(TradeRead.model_fields)  # the JSON's keys, in the schema's order


def trade_columns(
    rows: list[tuple[Any, ...]], marks: Marks, multipliers: dict[str, float], *, sqlite: bool
) -> dict[str, list[Any]]:
    """REPORT_COLUMNS rows as TradeRead's values (those GET /api/trades serves),
    one list a field but `regime` (its parts: `regime_trend`, `regime_volatility` and the
    parsed `extra`, which trade_values joins), timestamps formatted as
    arrays, money rounded to its 8 decimals (what SQLAlchemy's Numeric does on SQLite),
    JSON parsed only where not empty."""
    (ids, run_ids, accounts, symbols, directions, qtys, max_positions, entries, exits,
     *money, mfes, maes, efficiencies, r_multiples, trends, volatilities, opens, notes, tags,
     setups, extras, trade_multipliers) = (
        list(column) for column in zip(*rows, strict=True)
    )  # fmt: skip
    if sqlite:
        money = [_rounded(column) for column in money]
    entry_prices, exit_prices, gross, commissions, nets, mfe_amounts, mae_amounts, risks = money
    entry_text = format_ts_array(np.array(entries, dtype=np.int64))
    exit_array = np.array([0 if ts is None else ts for ts in exits], dtype=np.int64)
    exit_text = format_ts_array(exit_array)
    extra = [_EMPTY if text in ("{}", None) else orjson.loads(text) for text in extras]
    is_open = list(map(bool, opens))
    mark_prices: list[float | None] = [None] * len(rows)
    unrealised: list[float | None] = [None] * len(rows)
    for i in (i for i, o in enumerate(is_open) if o):  # few: marked at the last bar
        mark_prices[i] = mark = marks.close(symbols[i])
        if mark is not None:
            open_qty = extra[i].get("open_qty", qtys[i])
            unrealised[i] = unrealised_pnl(directions[i], open_qty, entry_prices[i], mark,
                                           multipliers[symbols[i]])  # fmt: skip
    return {
        "id": ids, "run_id": run_ids, "account": accounts, "symbol": symbols,
        "direction": directions, "qty": qtys, "max_position": max_positions,
        "entry_ts": entry_text,
        "exit_ts": [None if x is None else t for x, t in zip(exits, exit_text, strict=True)],
        "hold_seconds": [(x - e) / NS_PER_SECOND if x else None
                         for e, x in zip(entries, exits, strict=True)],
        "entry_price": entry_prices, "exit_price": exit_prices, "gross_pnl": gross,
        "commission": commissions, "net_pnl": nets, "multiplier": trade_multipliers,
        "unrealised_pnl": unrealised,
        "mark_price": mark_prices, "mfe": mfes, "mae": maes, "mfe_amount": mfe_amounts,
        "mae_amount": mae_amounts, "exit_efficiency": efficiencies, "initial_risk": risks,
        "initial_stop": [None if (x := e.get("initial_stop")) is None else float(x)
                         for e in extra],
        "r_multiple": r_multiples, "extra": extra,
        "open": is_open, "notes": notes,
        "tags": [[] if text in ("[]", None) else orjson.loads(text) for text in tags],
        "setup": setups, "regime_trend": trends, "regime_volatility": volatilities,
    }  # fmt: skip


def trade_values(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """trade_columns as one TradeRead dict a trade."""
    regimes = [
        {"trend": t, "volatility": v, "method": e.get("regime_method"),
         "version": e.get("regime_version")}
        for t, v, e in zip(columns["regime_trend"], columns["regime_volatility"],
                           columns["extra"], strict=True)
    ]  # fmt: skip
    fields = TRADE_FIELDS
    rows = zip(*(regimes if f == "regime" else columns[f] for f in fields), strict=True)
    return [dict(zip(fields, values, strict=True)) for values in rows]


_EMPTY: dict[str, Any] = {}


def _rounded(column: list[Any]) -> list[Any]:
    """Each amount rounded to 8 decimals, correctly (as float(Decimal("%.8f" % x)) is)."""
    if None in column:
        return [None if x is None else round(x, 8) for x in column]
    return list(map(round, column, repeat(8)))


def order_pages(session: Session, run_id: int) -> Iterator[list[dict[str, Any]]]:
    """The run's orders in (ts, id) order, as OrderRead values, a page at a time."""
    after: tuple[int, int] | None = None
    while True:
        rows = orders.list_orders(session, run_id, FillFilter(after=after), status=None, limit=PAGE)
        if not rows:
            return
        yield [runs.order_read(row) for row in rows]
        after = (rows[-1].ts, rows[-1].id)
        if len(rows) < PAGE:
            return


def _json_array(pages: Iterator[list[dict[str, Any]]]) -> Iterator[bytes]:
    """`[`, the pages' items separated by commas, `]`: one chunk a page."""
    separator = b"["
    for page in pages:
        yield separator + orjson.dumps(page)[1:-1]
        separator = b","
    yield b"[]" if separator == b"[" else b"]"


def report_json(session: Session, user_id: int, run_id: int) -> Iterator[bytes]:
    """The report document: `run`, `metrics`, `series`, `trades` and `orders`, in chunks;
    the run first (the first byte at once), the equity points and rows a page at a time.

    Raises NotFound before the first chunk when the run is not the user's."""
    run = runs.get_run(session, user_id, run_id).model_dump(mode="json")
    yield b'{"run":' + orjson.dumps(run)
    metrics, curves = service.run_metrics_and_curves(session, user_id, run_id)
    count = len(curves)
    series = {"run_id": run_id, "initial_capital": curves.initial_capital,
              "points_total": count, "downsampled": False, "daily": curves.daily}  # fmt: skip
    yield b',"metrics":' + orjson.dumps(metrics) + b',"series":' + orjson.dumps(series)[:-1]
    yield b',"equity":'
    pages = (np.arange(i, min(i + PAGE, count)) for i in range(0, count, PAGE))
    yield from _json_array(curves.points(rows) for rows in pages)
    yield b'},"trades":'
    yield from _json_array(trade_values(page) for page in trade_pages(session, user_id, run_id))
    yield b',"orders":'
    yield from _json_array(order_pages(session, run_id))
    yield b"}"


def csv_cell(value: object) -> object:
    """`value` as a CSV cell that no spreadsheet runs: text that could start a formula gets
    a leading `'`; numbers and booleans are left as they are, None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


_GUARDED = ("account", "symbol", "regime_trend", "regime_volatility", "setup", "notes")


def csv_rows(columns: dict[str, list[Any]]) -> Iterator[tuple[Any, ...]]:
    """trade_columns as the rows of CSV_COLUMNS: text through csv_cell (numbers, booleans
    and None go to the writer as they are; it writes None empty), tags joined by `;`."""
    cells = dict(columns)
    for name in _GUARDED:
        cells[name] = [csv_cell(v) for v in columns[name]]
    cells["tags"] = [csv_cell(";".join(t)) for t in columns["tags"]]
    return zip(*(cells[c] for c in CSV_COLUMNS), strict=True)


def report_csv(session: Session, user_id: int, run_id: int) -> Iterator[bytes]:
    """The run's trades as CSV (a header row, then a row a trade), in chunks.

    Raises NotFound before the first chunk when the run is not the user's."""
    runs.get_run(session, user_id, run_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for page in trade_pages(session, user_id, run_id):
        writer.writerows(csv_rows(page))
        yield out.getvalue().encode()
        out.seek(0)
        out.truncate()
    yield out.getvalue().encode()


def report(db: Database, user_id: int, run_id: int, format: Format) -> Iterator[bytes]:
    """The report in `format`, as chunks (a page of rows each), read in one snapshot."""
    write = report_csv if format == "csv" else report_json
    with db.snapshot() as session:
        yield from write(session, user_id, run_id)
