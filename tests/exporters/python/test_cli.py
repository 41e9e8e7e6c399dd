"""`fillbook-export csv` and `fillbook-export status` against a live backend."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fillbook_exporter.cli import main

from tests.exporters.python.helpers import pages, run_id
from tests.live_server import Account, LiveServer

FILLS = """Time,Instrument,Action,Quantity,Fill Price,Fee,Exec
2024-01-15 15:30:00,MESH4,BOT,2,4800.25,0.74,e1
2024-01-15 15:45:10.5,MESH4,SLD,2,4803.50,0.74,e2
2024-07-15 15:30:00,MESH4,Sell,1,5600.00,0.37,e3
2024-07-15 16:00:00,MESH4,buy,1,5590.25,0.37,e4
"""
MAP = ["--map", "Time=ts", "--map", "Instrument=symbol", "--map", "Action=side",
       "--map", "Quantity=qty", "--map", "Fill Price=price", "--map", "Fee=commission"]


def import_csv(server: LiveServer, key: str, csv: Path, spool: Path, *extra: str) -> int:
    return main(["csv", str(csv), "--url", server.url, "--api-key", key, "--source", "broker",
                 "--run-key", "2024", "--spool", str(spool), "--tz", "Europe/Berlin", *MAP,
                 *extra])


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
