"""End to end: a backtest pushed through the exporter to a running backend, and read back.

The backend runs as a real process (tests/live_server.py); the backtester pushes
with an API key over HTTP, as the CLI does. The run, its orders, fills, market
and run bars, its trades and its metrics must all be what the backtester itself
computed.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.backtester.candles import make_candles
from services.backtester.cli import main
from services.backtester.data import write_csv
from services.backtester.matching import FillRules
from services.backtester.runner import PushTarget, RunSpec, StoredBars, run_backtest
from services.backtester.sinks import Instrument
from services.backtester.synthetic import random_walk
from tests.live_server import Account, LiveServer, all_pages


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("backtest-server")) as live:
        yield live


@pytest.fixture(scope="module")
def account(server: LiveServer) -> Account:
    return server.create_account("quant")


def wait_for_run(server: LiveServer, account: Account, key: str) -> dict[str, Any]:
    """The run with `key` once it has ended and its metrics are stored."""
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=server.url, headers=account.headers, timeout=10) as http:
        while time.monotonic() < deadline:
            runs = http.get("/api/runs", params={"mode": "backtest"}).json()["items"]
            run = next((r for r in runs if r["key"] == key), None)
            if run is not None and run["status"] == "completed" and run["metrics"]:
                return dict(run)
            time.sleep(0.1)
    raise AssertionError(f"run {key!r} did not complete with metrics:\n{server.log()}")


def all_trades(server: LiveServer, account: Account, run_id: int) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.url, headers=account.headers, timeout=10) as http:
        return all_pages(http, f"/api/runs/{run_id}/trades")


def test_a_pushed_backtest_becomes_a_run_with_its_trades_and_metrics(
    server: LiveServer, account: Account, tmp_path: Path
) -> None:
    data = tmp_path / "bars.csv"
    write_csv(data, random_walk(90_000, seed=21))
    spec = RunSpec(
        data=data,
        strategy="donchian",
        interval="1m",
        params={"channel": 15},
        instrument=Instrument("MESZ3", 5.0, 0.25),
        rules=FillRules(commission_per_contract=0.62, slippage_ticks=1),
        initial_capital=25_000.0,
    )
    push = PushTarget(server.url, account.api_key, run_key="e2e-donchian",
                      spool_dir=tmp_path / "spool")
    outcome = run_backtest(spec, push=push)
    result = outcome.result
    assert outcome.pushed is not None
    assert outcome.pushed["rejected"] == 0
    assert stat.S_IMODE((tmp_path / "spool").stat().st_mode) == 0o700  # its owner's only

    run = wait_for_run(server, account, "e2e-donchian")
    assert run["strategy"]["name"] == "donchian"
    assert run["params"]["channel"] == 15
    assert run["initial_capital"] == 25_000.0
    assert run["execution_count"] == len(result.fills)
    assert run["order_count"] == result.orders

    trades = all_trades(server, account, run["id"])
    closed = [t for t in trades if not t["open"]]
    assert len(closed) == len(result.closed_trades) >= 10
    for served, ours in zip(closed, result.closed_trades, strict=True):
        assert served["entry_price"] == pytest.approx(float(ours.entry_price))
        assert served["exit_price"] == pytest.approx(float(ours.exit_price or 0))
        assert served["net_pnl"] == pytest.approx(float(ours.net_pnl))
        assert served["direction"] == ours.direction
        # a bracket's stop is the initial stop: every closed trade has an R multiple
        assert served["r_multiple"] is not None

    with httpx.Client(base_url=server.url, headers=account.headers, timeout=10) as http:
        metrics = http.get(f"/api/runs/{run['id']}/metrics").json()
        bars = http.get("/api/bars", params={"symbol": "MESZ3", "timeframe": "1m",
                                             "limit": 5000}).json()["bars"]
    for name in ("net_pnl", "trade_count", "win_rate", "profit_factor", "max_drawdown", "sharpe"):
        assert metrics[name] == pytest.approx(result.metrics[name]), name
    assert len(bars) == result.candles == 1500

    with sqlite3.connect(server.data_dir / "fillbook.db") as db:
        rows = db.execute(
            "SELECT b.\"values\" FROM bar b JOIN run_series s ON s.id = b.series_id "
            "WHERE s.run_id = ? ORDER BY b.ts", (run["id"],)
        ).fetchall()
    assert len(rows) == result.candles
    last = json.loads(rows[-1][0])
    assert set(last) == {"upper", "lower", "atr"}


def test_the_cli_pushes_stored_bars_as_a_run(
    server: LiveServer, account: Account, tmp_path: Path
) -> None:
    # 1-second bars stored in Fillbook first (a market series of their own)
    bars = random_walk(7_200, seed=8)
    events = [
        {"type": "bar", "symbol": "STORED", "timeframe": "1s", "ts": int(bars.ts[i]),
         "open": float(bars.open[i]), "high": float(bars.high[i]), "low": float(bars.low[i]),
         "close": float(bars.close[i]), "volume": float(bars.volume[i])}
        for i in range(len(bars))
    ]
    with httpx.Client(base_url=server.url, headers=account.ingest_headers, timeout=30) as http:
        response = http.post("/api/ingest", json={
            "source": "feed", "run": {"key": "feed", "strategy": "data", "mode": "live"},
            "events": events,
        })
        assert response.json()["accepted"] == len(events)
    loaded = run_backtest(RunSpec(StoredBars(server.url, account.api_key, "STORED"),
                                  "ma_cross", "1m")).result
    assert loaded.seconds == 7_200

    # the service's 5m bars, aggregated from the stored seconds, are the backtester's candles
    with httpx.Client(base_url=server.url, headers=account.headers, timeout=30) as http:
        served = http.get("/api/bars", params={"symbol": "STORED", "timeframe": "5m",
                                               "format": "columnar-json"}).json()
    candles = make_candles(bars, "5m")
    assert served["source_timeframe"] == "1s"
    assert served["ts"] == candles.ts.tolist()
    for name in ("open", "high", "low", "close", "volume"):
        assert served[name] == getattr(candles, name).tolist(), name

    code = main([
        "run", "--stored", "STORED", "--strategy", "ma_cross", "--interval", "1m",
        "--param", "fast=3", "--param", "slow=8", "--symbol", "STORED", "--tick-size", "0.25",
        "--url", server.url, "--api-key", account.api_key, "--run-key", "cli-stored",
        "--spool-dir", str(tmp_path), "--no-progress", "--format", "msgpack",
    ])
    assert code == 0
    run = wait_for_run(server, account, "cli-stored")
    assert run["params"]["fast"] == 3
    assert run["execution_count"] > 0


def test_a_sweep_pushes_only_the_best_runs(
    server: LiveServer, account: Account, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "sweep.csv"
    write_csv(data, random_walk(30_000, seed=5))
    code = main([
        "sweep", "--data", str(data), "--strategy", "ma_cross", "--interval", "1m",
        "--grid", "fast=3,5", "--grid", "slow=10:20:10", "--metric", "net_pnl", "--top", "1",
        "--workers", "2", "--url", server.url, "--api-key", account.api_key,
        "--run-key", "sweep", "--spool-dir", str(tmp_path), "--tick-size", "0.25",
        "--no-progress", "--json",
    ])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["rank"] for row in rows] == [1, 2, 3, 4]
    assert [row["run_key"] is not None for row in rows] == [True, False, False, False]
    with httpx.Client(base_url=server.url, headers=account.headers, timeout=10) as http:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = http.get("/api/runs", params={"mode": "backtest"}).json()["items"]
            swept = [r for r in runs if r["key"].startswith("sweep-")]
            if swept and swept[0]["status"] == "completed":
                break
            time.sleep(0.1)
    assert [r["key"] for r in swept] == [rows[0]["run_key"]]
    assert swept[0]["key"] == (
        f"sweep-fast{swept[0]['params']['fast']}-long_onlyFalse-qty1.0-"
        f"slow{swept[0]['params']['slow']}"
    )


def test_a_paced_replay_takes_market_time_over_the_pace(
    server: LiveServer, account: Account, tmp_path: Path
) -> None:
    # 40 minutes of bars at 1,200x: the events span ~39 minutes of market time, ~2 s
    bars = random_walk(2_400, seed=17)
    spec = RunSpec(data=bars, strategy="ma_cross", interval="1m",
                   params={"fast": 2, "slow": 5}, instrument=Instrument("PACE", 1.0, 0.25))
    push = PushTarget(server.url, account.api_key, run_key="paced", spool_dir=tmp_path,
                      pace=1_200)
    started = time.monotonic()
    outcome = run_backtest(spec, push=push, seconds=bars)
    elapsed = time.monotonic() - started
    assert 1.8 <= elapsed < 30  # the upper bound only catches a replay that never waits
    run = wait_for_run(server, account, "paced")
    assert run["execution_count"] == len(outcome.result.fills) > 0


def test_a_refused_key_or_a_long_run_key_fails_before_the_backtest(
    server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "bars.csv"
    write_csv(data, random_walk(600, seed=2))
    common = ["run", "--data", str(data), "--strategy", "ma_cross", "--interval", "1m",
              "--url", server.url, "--spool-dir", str(tmp_path), "--no-progress"]
    assert main([*common, "--api-key", "fb_not-a-key"]) == 2
    assert "refused the credential (401)" in capsys.readouterr().err
    assert main([*common, "--api-key", "k", "--run-key", "x" * 151]) == 2
    assert "run key: 1 to 150 characters, got 151" in capsys.readouterr().err
