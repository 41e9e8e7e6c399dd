"""A backtest from the dashboard never changes an instrument or the runs priced with it.

Over real HTTP to `run_server.py` on SQLite and PostgreSQL (issue 24): a CLI-style
backtest pushes `SYNMES` (multiplier 5, tick 0.25) with its trades; backtests then
launched through `POST /api/backtests` exactly as the dashboard sends them, the
old form's `settings: {}` included, run priced with the stored instrument, leave
it (and the earlier run's trades) byte for byte as they were, and a backtest asking
another multiplier is refused before it starts. Every trade's money is recomputed
here from its prices. The demo data (`/api/demo`) loads once, fills a run with
trades and bars, and is removed again; the SDK wheel installs from the server.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.backtester.data import write_csv
from services.backtester.matching import FillRules
from services.backtester.runner import PushTarget, RunSpec, run_backtest
from services.backtester.sinks import Instrument
from services.backtester.synthetic import START_NS, random_walk
from tests.live_server import LiveServer, all_pages

CENT = Decimal("0.01")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path / "server", database_url=database_url) as live:
        yield live


def _wait_backtest(http: httpx.Client, backtest_id: int, server: LiveServer) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        backtest: dict[str, Any] = http.get(f"/api/backtests/{backtest_id}").json()
        if backtest["status"] in ("completed", "failed"):
            return backtest
        time.sleep(0.2)
    raise AssertionError(f"backtest {backtest_id} did not finish:\n{server.log()}")


def _settle(http: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while http.get("/api/derivation").json()["state"] != "derived":
        assert time.monotonic() < deadline, "trades were not rebuilt within 60 s"
        time.sleep(0.1)


def _check_money(trade: dict[str, Any], multiplier: Decimal) -> None:
    """Gross = (exit - entry) x qty x multiplier (negated short), net = gross - commission."""
    sign = 1 if trade["direction"] == "long" else -1
    move = Decimal(str(trade["exit_price"])) - Decimal(str(trade["entry_price"]))
    gross = (move * Decimal(str(trade["qty"])) * multiplier * sign).quantize(CENT)
    assert Decimal(str(trade["gross_pnl"])).quantize(CENT) == gross, trade
    net = Decimal(str(trade["gross_pnl"])) - Decimal(str(trade["commission"]))
    assert Decimal(str(trade["net_pnl"])).quantize(CENT) == net.quantize(CENT), trade


def _money(trade: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(trade[k] for k in ("id", "direction", "qty", "entry_price", "exit_price",
                                    "gross_pnl", "commission", "net_pnl", "multiplier"))  # fmt: skip


def _launch(http: httpx.Client, csv: bytes, settings: str) -> httpx.Response:
    """The dashboard's form, field for field (frontend/src/pages/Backtests.tsx)."""
    return http.post(
        "/api/backtests",
        data={"strategy": "ma_cross", "interval": "1m", "symbol": "SYNMES",
              "params": json.dumps({"fast": 5, "slow": 20, "qty": 1, "long_only": False}),
              "settings": settings},
        files={"file": ("bars.csv", io.BytesIO(csv), "text/csv")},
    )  # fmt: skip


def test_a_dashboard_backtest_leaves_instruments_and_runs_unchanged(
    server: LiveServer, tmp_path: Path
) -> None:
    alice = server.create_account("alice")
    bars = random_walk(20_000, seed=31)
    cli = run_backtest(
        RunSpec(data=bars, strategy="ma_cross", interval="1m", params={"fast": 5, "slow": 20},
                instrument=Instrument("SYNMES", 5.0, 0.25),
                rules=FillRules(slippage_ticks=1, commission_per_contract=0.62),
                initial_capital=25_000.0),
        push=PushTarget(server.url, alice.api_key, spool_dir=tmp_path / "spool"),
    )  # fmt: skip
    assert cli.pushed is not None
    assert cli.pushed["rejected"] == 0
    # the CLI asking another multiplier for the stored symbol stops before it runs
    with pytest.raises(RuntimeError, match=r"SYNMES is stored in Fillbook with multiplier 5; "
                                           r"this backtest asks 1\. .*pass --multiplier 5"):
        run_backtest(
            RunSpec(data=bars, strategy="ma_cross", interval="1m",
                    instrument=Instrument("SYNMES", 1.0, 0.01)),
            push=PushTarget(server.url, alice.api_key, spool_dir=tmp_path / "spool"),
        )  # fmt: skip
    path = tmp_path / "bars.csv"
    # a later day: the dashboard's runs add bars of their own, they replace none of these
    write_csv(path, random_walk(20_000, seed=32, start_ns=START_NS + 86_400 * 10**9))
    csv = path.read_bytes()

    with httpx.Client(base_url=server.url, headers=alice.headers, timeout=30) as http:
        _settle(http)
        (cli_run,) = http.get("/api/runs").json()["items"]
        instruments = http.get("/api/instruments").json()
        assert [(i["symbol"], i["multiplier"], i["tick_size"]) for i in instruments] == [
            ("SYNMES", 5.0, 0.25)
        ]
        cli_trades = all_pages(http, f"/api/runs/{cli_run['id']}/trades")
        closed_cli = [t for t in cli_trades if not t["open"]]
        assert len(closed_cli) == cli.result.metrics["trade_count"]
        assert len(closed_cli) > 3
        for trade in cli_trades:
            assert trade["multiplier"] == 5.0
        for trade in closed_cli:
            _check_money(trade, Decimal(5))
        cli_metrics = http.get(f"/api/runs/{cli_run['id']}/metrics").json()

        # Another multiplier than the stored one: refused before anything runs
        refused = _launch(http, csv, json.dumps({"multiplier": 1, "tick_size": 0.01}))
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"].startswith(
            "settings.multiplier: SYNMES is stored with multiplier 5, this backtest asks 1."
        )
        assert refused.json()["instrument"] == {
            "symbol": "SYNMES", "multiplier": 5.0, "tick_size": 0.25, "currency": "USD"
        }
        assert http.get("/api/backtests").json() == []

        # The form as it was (settings "{}") and as it is now (costs, no contract fields)
        launched = []
        for settings in ("{}", json.dumps({"commission": 0.62, "slippage_ticks": 1,
                                           "initial_capital": 25_000})):  # fmt: skip
            response = _launch(http, csv, settings)
            assert response.status_code == 202, response.text
            assert (response.json()["settings"]["multiplier"],
                    response.json()["settings"]["tick_size"],
                    response.json()["settings"]["instrument"]) == (5.0, 0.25, "stored")  # fmt: skip
            done = _wait_backtest(http, response.json()["id"], server)
            assert done["status"] == "completed", done["error"]
            assert done["result"]["pushed"]["rejected"] == 0
            launched.append(done)
        _settle(http)

        # The instrument, the CLI run's trades and metrics: exactly as before
        assert http.get("/api/instruments").json() == [
            {**instruments[0], "run_count": 3, "trade_count": instruments[0]["trade_count"]
             + sum(len(all_pages(http, f"/api/runs/{b['run_id']}/trades")) for b in launched)}
        ]  # fmt: skip
        after = all_pages(http, f"/api/runs/{cli_run['id']}/trades")
        assert [t for t in after if not t["open"]] == closed_cli
        # an open trade is marked at the newest bar (and its excursions grow): its money stays
        assert [_money(t) for t in after] == [_money(t) for t in cli_trades]
        metrics_after = http.get(f"/api/runs/{cli_run['id']}/metrics").json()
        assert {**metrics_after, "computed_at": None} == {**cli_metrics, "computed_at": None}

        # The dashboard's runs are priced x5 in currency, with their costs
        for done, commission in zip(launched, (Decimal(0), Decimal("1.24")), strict=True):
            trades = all_pages(http, f"/api/runs/{done['run_id']}/trades")
            closed = [t for t in trades if not t["open"]]
            assert len(closed) == done["result"]["trades"] > 3
            for trade in closed:
                assert trade["multiplier"] == 5.0
                _check_money(trade, Decimal(5))
                # one contract in and out at 0.62 each (a reversing fill split pro rata)
                assert Decimal(str(trade["commission"])).quantize(CENT) == commission
            metrics = http.get(f"/api/runs/{done['run_id']}/metrics").json()
            assert metrics["net_pnl"] == pytest.approx(done["result"]["metrics"]["net_pnl"])
            total = sum((Decimal(str(t["net_pnl"])) for t in closed), Decimal(0))
            assert Decimal(str(metrics["net_pnl"])).quantize(CENT) == total.quantize(CENT)
        detail = http.get(f"/api/trades/{cli_trades[0]['id']}").json()
        assert detail["multiplier"] == 5.0


def test_demo_data_loads_once_fills_the_pages_and_goes_away(server: LiveServer) -> None:
    alice = server.create_account("alice")
    bob = server.create_account("bob")
    with httpx.Client(base_url=server.url, headers=alice.headers, timeout=30) as http:
        assert http.get("/api/demo").json() == {"backtest": None, "symbol": "DEMO",
                                                "source": "demo"}  # fmt: skip
        first = http.post("/api/demo")
        assert first.status_code == 202, first.text
        again = http.post("/api/demo")  # idempotent: the same backtest
        assert again.status_code == 200
        assert again.json()["backtest"]["id"] == first.json()["backtest"]["id"]
        done = _wait_backtest(http, first.json()["backtest"]["id"], server)
        assert done["status"] == "completed", done["error"]
        assert done["data_source"] == "synthetic"
        _settle(http)
        (run,) = http.get("/api/runs").json()["items"]
        assert (run["source"], run["mode"], run["strategy"]["name"], run["initial_capital"]) == (
            "demo", "backtest", "Demo: ma_cross on synthetic bars", 25_000.0
        )
        trades = all_pages(http, f"/api/runs/{run['id']}/trades")
        assert len([t for t in trades if not t["open"]]) == done["result"]["trades"] > 10
        for trade in trades:
            if not trade["open"]:
                _check_money(trade, Decimal(5))
        metrics = http.get(f"/api/runs/{run['id']}/metrics").json()
        assert metrics["max_drawdown"] is not None
        assert metrics["sharpe"] is not None
        bars = http.get("/api/bars", params={"symbol": "DEMO", "timeframe": "5m"}).json()
        assert done["result"]["candles"] == 8640  # 30 days of 5-minute candles
        assert bars["source_timeframe"] == "5m"
        assert len(bars["bars"]) > 100
        assert http.get("/api/demo").json()["backtest"]["run_id"] == run["id"]
        # bob sees none of it, and cannot remove it
        assert httpx.get(f"{server.url}/api/runs", headers=bob.headers).json()["items"] == []
        assert httpx.get(f"{server.url}/api/demo", headers=bob.headers).json()["backtest"] is None
        assert httpx.delete(f"{server.url}/api/demo", headers=bob.headers).status_code == 200

        removed = http.delete("/api/demo")
        assert removed.status_code == 200, removed.text
        assert removed.json()["backtest"] is None
        assert http.get("/api/runs").json()["items"] == []
        assert http.get("/api/trades").json()["items"] == []
        assert http.get("/api/instruments").json() == []
        assert http.get("/api/demo").json()["backtest"] is None
        assert http.get("/api/backtests").json() == []


def test_the_sdk_wheel_installs_from_the_server(server: LiveServer, tmp_path: Path) -> None:
    alice = server.create_account("alice")
    assert httpx.get(f"{server.url}/api/downloads/sdk").status_code == 401
    sdk = httpx.get(f"{server.url}/api/downloads/sdk", headers=alice.headers).json()
    assert sdk["filename"] == "fillbook_exporter-0.1.0-py3-none-any.whl"
    assert sdk["path"] == f"/downloads/{sdk['filename']}"
    wheel = httpx.get(server.url + sdk["path"])  # public: pip sends no credentials
    assert wheel.status_code == 200
    assert len(wheel.content) == sdk["size"]
    with zipfile.ZipFile(io.BytesIO(wheel.content)) as archive:
        names = archive.namelist()
    assert "fillbook_exporter/exporter.py" in names
    assert all(n.startswith(("fillbook_exporter/", "fillbook_exporter-0.1.0.dist-info/"))
               for n in names)  # fmt: skip
    # a path out of /downloads never reaches a file: it is the dashboard's page
    escape = httpx.get(f"{server.url}/downloads/..%2F..%2Ffillbook.db")
    assert escape.headers["content-type"].startswith("text/html")
    assert b"SQLite format 3" not in escape.content
    assert httpx.get(f"{server.url}/downloads/other-1.0-py3-none-any.whl").status_code == 404
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), server.url + sdk["path"]],
        check=True, timeout=120,
    )  # fmt: skip
    check = subprocess.run(
        [sys.executable, "-c", "import fillbook_exporter, sys; print(fillbook_exporter.__file__)"],
        env={"PYTHONPATH": str(target)}, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith(str(target))
