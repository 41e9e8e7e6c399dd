"""A run's report, to keep or share outside Fillbook: one JSON document, or trades as CSV."""

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


def report_csv(session: Session, user_id: int, run_id: int) -> str:
    runs.get_run(session, user_id, run_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for trade in _trades(session, user_id, run_id):
        regime = trade["regime"]
        flat = {**trade, "regime_trend": regime["trend"], "regime_volatility": regime["volatility"],
                "tags": ";".join(trade["tags"])}  # fmt: skip
        writer.writerow(["" if flat[c] is None else flat[c] for c in CSV_COLUMNS])
    return out.getvalue()
