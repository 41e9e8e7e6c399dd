"""A run's report, to keep or share outside Fillbook: one JSON document, or trades as CSV.

The report is written as it is read: the run, its metrics and its series first (small,
or computed from columns in one query), then trades and orders in keyset pages of
`PAGE` rows, each page serialised and handed on before the next is read. Every page is
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
from typing import Any, Literal

import orjson
from sqlalchemy.orm import Session

from backend.analytics import repository, service
from backend.db.engine import Database
from backend.runs import repository as orders
from backend.runs import service as runs
from backend.runs.repository import FillFilter
from backend.trades import repository as trades
from backend.trades.service import Marks, trade_read

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


def trade_pages(session: Session, user_id: int, run_id: int) -> Iterator[list[dict[str, Any]]]:
    """The run's trades in entry order (then id), as TradeRead values, a page at a time."""
    marks = Marks(session, user_id)
    multipliers: dict[str, float] = {}
    after: tuple[int, int] | None = None
    while True:
        rows = repository.trade_page(session, user_id, run_id, after=after, limit=PAGE)
        if not rows:
            return
        for symbol in {row.symbol for row in rows} - multipliers.keys():
            multipliers[symbol] = trades.instrument(session, user_id, symbol)[0]
        yield [trade_read(row, marks, multipliers[row.symbol]) for row in rows]
        after = (rows[-1].entry_ts, rows[-1].id)
        if len(rows) < PAGE:
            return


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
    """The report document: `run`, `metrics`, `series`, `trades` and `orders`, in chunks.

    Raises NotFound before the first chunk when the run is not the user's."""
    run = runs.get_run(session, user_id, run_id).model_dump(mode="json")
    head = {
        "run": run,
        "metrics": service.run_metrics(session, user_id, run_id, store=False),
        "series": service.run_series(session, user_id, run_id),
    }
    yield orjson.dumps(head)[:-1] + b',"trades":'
    yield from _json_array(trade_pages(session, user_id, run_id))
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


def csv_row(trade: dict[str, Any]) -> list[object]:
    """A trade (TradeRead values) as the cells of CSV_COLUMNS."""
    regime = trade["regime"]
    flat = {**trade, "regime_trend": regime["trend"], "regime_volatility": regime["volatility"],
            "tags": ";".join(trade["tags"])}  # fmt: skip
    return [csv_cell(flat[c]) for c in CSV_COLUMNS]


def report_csv(session: Session, user_id: int, run_id: int) -> Iterator[bytes]:
    """The run's trades as CSV (a header row, then a row a trade), in chunks.

    Raises NotFound before the first chunk when the run is not the user's."""
    runs.get_run(session, user_id, run_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for page in trade_pages(session, user_id, run_id):
        writer.writerows(csv_row(trade) for trade in page)
        yield out.getvalue().encode()
        out.seek(0)
        out.truncate()
    yield out.getvalue().encode()


def report(db: Database, user_id: int, run_id: int, format: Format) -> Iterator[bytes]:
    """The report in `format`, as chunks (a page of rows each), read in one snapshot."""
    write = report_csv if format == "csv" else report_json
    with db.snapshot() as session:
        yield from write(session, user_id, run_id)
