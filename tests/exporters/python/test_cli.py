"""`fillbook-export csv` and `fillbook-export status` against a live backend."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fillbook_exporter.cli import main

from tests.exporters.python.helpers import pages, run_id, trades
from tests.live_server import Account, LiveServer

FILLS = """Time,Instrument,Action,Quantity,Fill Price,Fee,Exec
2024-01-15 15:30:00,MESH4,BOT,2,4800.25,0.74,e1
2024-01-15 15:45:10.5,MESH4,SLD,2,4803.50,0.74,e2
2024-07-15 15:30:00,MESH4,Sell,1,5600.00,0.37,e3
2024-07-15 16:00:00,MESH4,buy,1,5590.25,0.37,e4
"""
MAP = ["--map", "Time=ts", "--map", "Instrument=symbol", "--map", "Action=side",
       "--map", "Quantity=qty", "--map", "Fill Price=price", "--map", "Fee=commission"]


# Fills written in Berlin wall time through the night the clocks go back (2023-10-29):
# 02:00-03:00 happens twice, and the 02:15 after 02:45 is the second pass.
DST_FILLS = """Time,Instrument,Action,Quantity,Fill Price,Fee,Exec
2023-10-29 01:50:00,MESZ3,BOT,1,4200.00,0.5,d1
2023-10-29 02:30:00,MESZ3,SLD,1,4201.00,0.5,d2
2023-10-29 02:45:00,MESZ3,BOT,1,4202.00,0.5,d3
2023-10-29 02:15:00,MESZ3,SLD,1,4203.00,0.5,d4
2023-10-29 03:05:00,MESZ3,BOT,1,4204.00,0.5,d5
2023-10-29 03:10:00,MESZ3,SLD,1,4205.00,0.5,d6
"""


def import_csv(server: LiveServer, key: str, csv: Path, spool: Path, *extra: str) -> int:
    return main(["csv", str(csv), "--url", server.url, "--api-key", key, "--source", "broker",
                 "--run-key", "2024", "--spool", str(spool), "--tz", "Europe/Berlin", *MAP,
                 *extra])


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *extra: str) -> str:
    """Import `text` (nothing listens at the URL: a refused file never gets that far);
    asserts exit 2 and an untouched spool, returns stderr."""
    csv = tmp_path / "refused.csv"
    csv.write_text(text)
    spool = tmp_path / "refused.spool"
    code = main(["csv", str(csv), "--url", "http://127.0.0.1:9", "--api-key", "k",
                 "--run-key", "r", "--spool", str(spool), "--tz", "Europe/Berlin", *MAP, *extra])
    assert code == 2
    assert not spool.exists()
    return capsys.readouterr().err


class TestCsv:
    def test_fills_arrive_in_utc_and_a_second_import_is_all_duplicates(
        self, server: LiveServer, account: Account, tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        csv = tmp_path / "fills.csv"
        csv.write_text(FILLS)
        assert import_csv(server, account.api_key, csv, tmp_path / "a.spool") == 0
        out, err = capsys.readouterr()
        assert "4 fills: 4 accepted, 0 duplicates, 0 rejected" in out
        assert "spooled: 100%" in err  # the progress bar
        rid = run_id(server, account, "2024")
        fills = list(pages(server, account, f"/api/runs/{rid}/executions"))
        # Berlin is +01:00 in January and +02:00 in July.
        assert [(f["ts"], f["side"], f["qty"], f["price"], f["commission"]) for f in fills] == [
            ("2024-01-15T14:30:00Z", "buy", 2, 4800.25, 0.74),
            ("2024-01-15T14:45:10.500Z", "sell", 2, 4803.5, 0.74),
            ("2024-07-15T13:30:00Z", "sell", 1, 5600.0, 0.37),
            ("2024-07-15T14:00:00Z", "buy", 1, 5590.25, 0.37),
        ]
        assert import_csv(server, account.api_key, csv, tmp_path / "b.spool", "--quiet") == 0
        assert "4 fills: 0 accepted, 4 duplicates, 0 rejected" in capsys.readouterr().out

    def test_the_platform_ids_are_used_when_mapped(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        csv = tmp_path / "fills.csv"
        csv.write_text(FILLS)
        assert import_csv(server, account.api_key, csv, tmp_path / "a.spool", "--quiet",
                          "--map", "Exec=id") == 0
        rid = run_id(server, account, "2024")
        ids = [f["id"] for f in pages(server, account, f"/api/runs/{rid}/executions")]
        assert ids == ["e1", "e2", "e3", "e4"]

    def test_a_bad_file_is_refused_whole(
        self, server: LiveServer, account: Account, tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        csv = tmp_path / "bad.csv"
        csv.write_text(FILLS + "2024-07-16 10:00:00,MESH4,hold,1,5590.25,0.37,e5\n"
                       "2024-07-16 10:00:00,MESH4,buy,,5590.25,0.37,e6\n")
        spool = tmp_path / "bad.spool"
        assert import_csv(server, account.api_key, csv, spool) == 2
        err = capsys.readouterr().err
        assert "2 rows cannot be imported; nothing was spooled" in err
        assert "line 6: side: expected buy/sell (or b/s), got 'hold'" in err
        assert "line 7: missing qty (column 'Quantity')" in err
        assert not spool.exists()

    def test_naive_times_need_a_zone(self, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
        csv = tmp_path / "fills.csv"
        csv.write_text(FILLS)
        code = main(["csv", str(csv), "--api-key", "k", "--run-key", "r", *MAP])
        assert code == 2
        assert "has no offset; pass --tz" in capsys.readouterr().err


class TestLocalTimes:
    def test_the_repeated_hour_keeps_the_file_in_order(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        csv = tmp_path / "dst.csv"
        csv.write_text(DST_FILLS)
        assert import_csv(server, account.api_key, csv, tmp_path / "a.spool", "--quiet",
                          "--map", "Exec=id") == 0
        rid = run_id(server, account, "2024")
        fills = [(f["id"], f["ts"]) for f in pages(server, account, f"/api/runs/{rid}/executions")]
        assert fills == [
            ("d1", "2023-10-28T23:50:00Z"),  # 01:50 CEST
            ("d2", "2023-10-29T00:30:00Z"),  # 02:30, first pass (CEST)
            ("d3", "2023-10-29T00:45:00Z"),
            ("d4", "2023-10-29T01:15:00Z"),  # 02:15 after 02:45: the second pass (CET)
            ("d5", "2023-10-29T02:05:00Z"),  # 03:05 CET
            ("d6", "2023-10-29T02:10:00Z"),
        ]
        # Three round trips of +1 point each, as the file says, not reordered ones.
        rows = trades(server, account, "2024")
        assert [(row[1], row[6], row[7]) for row in rows] == [
            ("long", 4200.0, 4201.0), ("long", 4202.0, 4203.0), ("long", 4204.0, 4205.0)]

    def test_earliest_takes_the_first_pass(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        csv = tmp_path / "dst.csv"
        csv.write_text(DST_FILLS)
        assert import_csv(server, account.api_key, csv, tmp_path / "e.spool", "--quiet",
                          "--map", "Exec=id", "--ambiguous", "earliest") == 0
        rid = run_id(server, account, "2024")
        fills = {f["id"]: f["ts"] for f in pages(server, account, f"/api/runs/{rid}/executions")}
        assert fills["d4"] == "2023-10-29T00:15:00Z"

    def test_a_time_the_clocks_skipped_is_a_bad_row(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        err = refused(tmp_path, capsys, FILLS + "2023-03-26 02:30:00,MESH4,BOT,1,4000,0.5,e5\n")
        assert ("line 6: ts: 2023-03-26 02:30 does not exist in Europe/Berlin (the clocks "
                "jumped from 02:00 to 03:00)") in err

    def test_raise_refuses_every_ambiguous_row(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        err = refused(tmp_path, capsys, DST_FILLS, "--ambiguous", "raise")
        assert "3 rows cannot be imported; nothing was spooled" in err
        assert ("line 3: ts: 2023-10-29 02:30 is ambiguous in Europe/Berlin: it happened "
                "twice, at 2023-10-29T00:30:00Z and at 2023-10-29T01:30:00Z") in err
        assert "line 4: ts: 2023-10-29 02:45 is ambiguous" in err
        assert "line 5: ts: 2023-10-29 02:15 is ambiguous" in err

    def test_order_refuses_a_row_neither_pass_keeps_in_order(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        text = DST_FILLS.replace("2023-10-29 01:50:00", "2023-10-29 05:00:00")
        err = refused(tmp_path, capsys, text)
        assert ("line 3: ts: 2023-10-29 02:30 is ambiguous in Europe/Berlin: it happened twice, "
                "at 2023-10-29T00:30:00Z and at 2023-10-29T01:30:00Z, both before the previous "
                "time 2023-10-29T04:00:00Z, so the order cannot tell which") in err


class TestDomain:
    def test_rows_the_service_would_refuse_are_bad_rows(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bad = ("2024-07-16 10:00:00,MESH4,buy,0.000000001,5590.25,0.37,e5\n"
               "2024-07-16 10:00:00,MESH4,buy,1,100000000,0.37,e6\n"
               "2024-07-16 10:00:00,MESH4,buy,1,5590.25,-0.37,e7\n"
               "2200-01-01 10:00:00,MESH4,buy,1,5590.25,0.37,e8\n"
               "2024-07-16 10:00:00,MESH4,buy,nan,5590.25,0.37,e9\n")
        err = refused(tmp_path, capsys, FILLS + bad)
        assert "5 rows cannot be imported; nothing was spooled" in err
        assert ("line 6: qty: must be at least 1e-08 (the smallest amount counted), got 1e-09"
                in err)
        assert "line 7: price: must be at most 90,000,000" in err
        assert "line 8: commission: must be greater than or equal to 0, got -0.37" in err
        assert "line 9: ts: must be before 2200-01-01T00:00:00Z, got '2200-01-01 10:00:00'" in err
        assert "line 10: qty: must be finite, got nan" in err

    def test_the_initial_capital(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        err = refused(tmp_path, capsys, FILLS, "--initial-capital", "0")
        assert "--initial-capital: must be at least 1e-08, got 0.0" in err


class TestStatus:
    def test_status_shows_what_waits_and_why(
        self, server: LiveServer, account: Account, tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        csv = tmp_path / "fills.csv"
        csv.write_text(FILLS)
        spool = tmp_path / "s.spool"
        assert import_csv(server, "wrong-key", csv, spool, "--quiet") == 1
        assert "stopped: ingest refused the batch with 401" in capsys.readouterr().err

        assert main(["status", "--spool", str(spool)]) == 0
        out = capsys.readouterr().out
        assert "broker / 2024: 4 pending" in out

        # The console script is installed and reads the same spool.
        script = shutil.which("fillbook-export", path=str(Path(sys.executable).parent))
        assert script is not None
        result = subprocess.run([script, "status", "--spool", str(spool)],
                                capture_output=True, text=True, check=True)
        assert "4 pending" in result.stdout
