"""A run's report, to keep or share outside Fillbook: one JSON document, or trades as CSV.

The CSV is opened in spreadsheets, and text a client sent (symbol, account, notes, tags,
setup) goes into it. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return would be read as a formula (`=HYPERLINK(...)`, DDE), so such text is written with
a leading `'`, as OWASP's CSV-injection guidance says; the spreadsheet shows it as text.
Numbers are written as numbers: a negative PnL stays `-12.5`.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy.orm import Session

from backend.analytics import service
from backend.runs import service as runs
from backend.runs.repository import FillFilter
from backend.trades import service as trades
from backend.trades.repository import TradeFilter

EVERYTHING = 10**9  # a report holds every row: no paging
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS = (
    "id", "account", "symbol", "direction", "qty", "max_position", "entry_ts", "exit_ts",
    "hold_seconds", "entry_price", "exit_price", "gross_pnl", "commission", "net_pnl",
    "unrealised_pnl", "mfe", "mae", "mfe_amount", "mae_amount", "exit_efficiency",
    "initial_stop", "initial_risk", "r_multiple", "regime_trend", "regime_volatility", "open",
    "setup", "tags", "notes",
)  # fmt: skip


def _trades(session: Session, user_id: int, run_id: int) -> list[dict[str, Any]]:
    page = trades.list_trades(
        session, TradeFilter(user_id=user_id, run_id=run_id), sort="entry_ts", cursor=None,
        limit=EVERYTHING,
    )  # fmt: skip
    return [item.model_dump(mode="json") for item in page.items]


def report_json(session: Session, user_id: int, run_id: int) -> dict[str, Any]:
    run = runs.get_run(session, user_id, run_id)
    orders = runs.list_orders(session, user_id, run_id, FillFilter(), status=None, limit=EVERYTHING)
    return {
        "run": run.model_dump(mode="json"),
        "metrics": service.run_metrics(session, user_id, run_id, store=False),
        "trades": _trades(session, user_id, run_id),
        "orders": [order.model_dump(mode="json") for order in orders.items],
        "series": service.run_series(session, user_id, run_id),
    }


def csv_cell(value: object) -> object:
    """`value` as a CSV cell that no spreadsheet runs: text that could start a formula gets
    a leading `'`; numbers and booleans are left as they are, None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def report_csv(session: Session, user_id: int, run_id: int) -> str:
    runs.get_run(session, user_id, run_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for trade in _trades(session, user_id, run_id):
        regime = trade["regime"]
        flat = {**trade, "regime_trend": regime["trend"], "regime_volatility": regime["volatility"],
                "tags": ";".join(trade["tags"])}  # fmt: skip
        writer.writerow([csv_cell(flat[c]) for c in CSV_COLUMNS])
    return out.getvalue()
