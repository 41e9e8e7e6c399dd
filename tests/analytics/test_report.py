"""The streamed run report against the report built whole from the list endpoints' functions.

The expected document is what the report was before it streamed: every trade through
`trades.service.list_trades` (ORM rows, TradeRead, `model_dump`), every order through
`runs.service.list_orders`, metrics and series from their own endpoints' functions, the
CSV written cell by cell from those trades. Pages are made tiny so that keyset paging
crosses trades that share an entry time.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from backend.analytics import report, service
from backend.db.models import Trade
from backend.runs import service as runs
from backend.runs.repository import FillFilter
from backend.trades import service as trades
from backend.trades.repository import TradeFilter
from tests.ingest.helpers import RUN, app_context, batch, fill, push

EVERYTHING = 10**9


def _events() -> list[dict[str, Any]]:
    """Scale-ins, a partial exit, a reversal, trades sharing entry times, an open trade
    marked at a bar, a multiplier, odd prices and commissions, orders."""
    t = "2024-03-08T14:{:02d}:00Z".format
    events: list[dict[str, Any]] = [
        {"type": "instrument", "symbol": "MES", "multiplier": 5, "tick_size": 0.25},
        fill("m1", t(0), "buy", 1, 4700.25, symbol="MES", commission=0.37, order_id="o1"),
        fill("m2", t(1), "buy", 2, 4701.75, symbol="MES", commission=0.74),
        fill("m3", t(2), "sell", 1, 4703.1, symbol="MES", commission=0.37),
        fill("m4", t(3), "sell", 4, 4699.3, symbol="MES", commission=1.48),  # reverses
        fill("m5", t(5), "buy", 2, 4698.15, symbol="MES", commission=0.74),
        fill("n6", t(6), "buy", 3, 50.1, symbol="NQ", account="B", commission=0.3),  # stays open
        {
            "type": "bar",
            "symbol": "NQ",
            "timeframe": "1m",
            "ts": t(7),
            "open": 50,
            "high": 56,
            "low": 49,
            "close": 55.35,
            "volume": 10,
        },  # fmt: skip
        {
            "type": "order",
            "id": "o1:filled",
            "order_id": "o1",
            "ts": t(0),
            "symbol": "MES",
            "side": "buy",
            "order_type": "limit",
            "qty": 1,
            "limit_price": 4700.25,
            "status": "filled",
            "tif": "day",
        },  # fmt: skip
        {
            "type": "order",
            "id": "o2:working",
            "order_id": "o2",
            "ts": t(4),
            "symbol": "ES",
            "side": "sell",
            "order_type": "stop",
            "qty": 1,
            "stop_price": 11.5,
            "status": "working",
        },  # fmt: skip
    ]
    for n in range(7):  # ties: several symbols entering at the same instant
        events += [
            fill(f"e{n}a", t(0), "buy" if n % 2 else "sell", 1 + n, 10 + n * 0.1, symbol=f"E{n}"),
            fill(f"e{n}b", t(8), "sell" if n % 2 else "buy", 1 + n, 10.3 + n / 3, symbol=f"E{n}"),
        ]
    return events


def _expected(client: TestClient, user_id: int, run_id: int) -> dict[str, Any]:
    with app_context(client).db.session() as session:
        page = trades.list_trades(
            session, TradeFilter(user_id=user_id, run_id=run_id), sort="entry_ts", cursor=None,
            limit=EVERYTHING,
        )  # fmt: skip
        orders = runs.list_orders(session, user_id, run_id, FillFilter(), status=None, limit=10**6)
        return {
            "run": runs.get_run(session, user_id, run_id).model_dump(mode="json"),
            "metrics": service.run_metrics(session, user_id, run_id, store=False),
            "trades": [item.model_dump(mode="json") for item in page.items],
            "orders": [order.model_dump(mode="json") for order in orders.items],
            "series": service.run_series(session, user_id, run_id),
        }


def _expected_csv(document: dict[str, Any]) -> str:
    """The CSV as the report wrote it before it streamed: one csv_cell per column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(report.CSV_COLUMNS)
    for trade in document["trades"]:
        regime = trade["regime"]
        flat = {**trade, "regime_trend": regime["trend"], "regime_volatility": regime["volatility"],
                "tags": ";".join(trade["tags"])}  # fmt: skip
        writer.writerow([report.csv_cell(flat[c]) for c in report.CSV_COLUMNS])
    return out.getvalue()


def _without_clock(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "metrics": {**document["metrics"], "computed_at": None}}


@pytest.fixture
def run(client: TestClient, alice: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(report, "PAGE", 3)
    run_id = int(push(client, alice, batch(_events(), run=RUN))["run_id"])
    assert app_context(client).ingest.derivations.wait_idle()
    items = client.get(f"/api/runs/{run_id}/trades?limit=50", headers=alice).json()["items"]
    journal = {"notes": "=HYPERLINK(1)", "tags": ["-2+3", "ok"], "setup": "@ORB"}
    assert client.patch(f"/api/trades/{items[0]['id']}", json=journal, headers=alice).is_success
    return run_id


def _user_id(client: TestClient, headers: dict[str, str]) -> int:
    return int(client.get("/api/auth/me", headers=headers).json()["id"])


class TestStreamedReport:
    def test_json_equals_the_report_built_whole(
        self, client: TestClient, alice: dict[str, str], run: int
    ) -> None:
        response = client.get(f"/api/runs/{run}/report", headers=alice)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="run-{run}-report.json"'
        )
        document = orjson.loads(response.content)
        expected = _expected(client, _user_id(client, alice), run)
        assert (len(expected["trades"]), len(expected["orders"])) == (10, 2)
        assert any(t["open"] and t["unrealised_pnl"] is not None for t in expected["trades"])
        assert _without_clock(document) == _without_clock(expected)
        # the same numbers written the same way (an int is not a float, 1e-05 stays 1e-05)
        assert orjson.dumps(document["trades"], option=orjson.OPT_SORT_KEYS) == orjson.dumps(
            expected["trades"], option=orjson.OPT_SORT_KEYS
        )

    def test_csv_is_byte_for_byte_the_report_built_whole(
        self, client: TestClient, alice: dict[str, str], run: int
    ) -> None:
        response = client.get(f"/api/runs/{run}/report?format=csv", headers=alice)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        expected = _expected_csv(_expected(client, _user_id(client, alice), run))
        assert response.text == expected
        rows = list(csv.DictReader(io.StringIO(response.text)))
        guarded = [r for r in rows if r["notes"] == "'=HYPERLINK(1)"]
        assert [(r["tags"], r["setup"]) for r in guarded] == [("'-2+3;ok", "'@ORB")]

    def test_an_empty_run(self, client: TestClient, alice: dict[str, str]) -> None:
        run_id = int(push(client, alice, batch([], run=RUN))["run_id"])
        document = client.get(f"/api/runs/{run_id}/report", headers=alice).json()
        assert (document["trades"], document["orders"]) == ([], [])
        text = client.get(f"/api/runs/{run_id}/report?format=csv", headers=alice).text
        assert text == ",".join(report.CSV_COLUMNS) + "\n"

    def test_another_users_run_is_not_found(
        self, client: TestClient, run: int, bob: dict[str, str]
    ) -> None:
        for query in ("", "?format=csv"):
            response = client.get(f"/api/runs/{run}/report{query}", headers=bob)
            assert response.status_code == 404, response.text
            assert response.json()["error"]
        assert client.get(f"/api/runs/{run + 1000}/report", headers=bob).status_code == 404
        assert client.get(f"/api/runs/{run}/report").status_code == 401

    def test_one_snapshot_while_others_write(
        self, client: TestClient, alice: dict[str, str], run: int
    ) -> None:
        """Writes committed while the report is being read do not show in it, and the
        report holds no lock that keeps them waiting (SQLite's write lock included)."""
        context = app_context(client)
        user_id = _user_id(client, alice)
        expected = _expected(client, user_id, run)
        chunks = report.report(context.db, user_id, run, "json")
        first = next(chunks)  # run, metrics, series: the snapshot is taken
        with context.db.session(write=True) as session:
            session.execute(update(Trade).where(Trade.run_id == run).values(notes="changed"))
        second = next(chunks)  # the first page of trades
        with context.db.session(write=True) as session:
            session.execute(delete(Trade).where(Trade.run_id == run))
        document = orjson.loads(first + second + b"".join(chunks))
        assert _without_clock(document) == _without_clock(expected)
        assert client.get(f"/api/runs/{run}/report", headers=alice).json()["trades"] == []
