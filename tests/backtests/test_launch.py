"""Launching backtests on a running backend: a worker process pushes the run back to it.

Over real HTTP to `run_server.py` (tests/live_server.py): an upload and a run on
stored bars each end `completed` with the run they produced, progress arrives
as `backtest_progress` messages on the user's WebSocket, the key made for the
backtest is revoked at the end, and nobody else sees the backtest.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from services.backtester.data import write_csv
from services.backtester.synthetic import random_walk
from tests.live_server import Account, LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("backtests-server")) as live:
        yield live


@pytest.fixture(scope="module")
def alice(server: LiveServer) -> Account:
    return server.create_account("alice")


@pytest.fixture(scope="module")
def bob(server: LiveServer, alice: Account) -> Account:
    return server.create_account("bob")


class Listener:
    """The user's live channel, read in a thread."""

    def __init__(self, server: LiveServer, token: str) -> None:
        url = server.url.replace("http://", "ws://") + f"/api/stream?token={token}"
        self._stack = contextlib.ExitStack()
        self.socket = self._stack.enter_context(connect(url))
        self.messages: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for raw in self.socket:
                self.messages.append(json.loads(raw))
        except Exception:  # closed by the test
            return

    def close(self) -> None:
        self._stack.close()
        self.thread.join(timeout=5)

    def of(self, backtest_id: int) -> list[dict[str, Any]]:
        return [m for m in self.messages
                if m.get("type") == "backtest_progress" and m.get("backtest_id") == backtest_id]


def wait_done(http: httpx.Client, backtest_id: int, server: LiveServer) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        backtest = http.get(f"/api/backtests/{backtest_id}").json()
        if backtest["status"] in ("completed", "failed"):
            return dict(backtest)
        time.sleep(0.2)
    raise AssertionError(f"backtest {backtest_id} did not finish:\n{server.log()}")


def test_an_uploaded_dataset_runs_in_a_worker_and_becomes_a_run(
    server: LiveServer, alice: Account, bob: Account, tmp_path: Path
) -> None:
    path = tmp_path / "bars.csv"
    bars = random_walk(30_000, seed=12)
    write_csv(path, bars)
    text = path.read_bytes() + b"1700006400000,oops,1,1,1,1\n"  # one malformed row
    listener = Listener(server, alice.token)
    try:
        with httpx.Client(base_url=server.url, headers=alice.headers, timeout=30) as http:
            response = http.post(
                "/api/backtests",
                data={"strategy": "ma_cross", "interval": "1m",
                      "params": json.dumps({"fast": 5, "slow": 20}), "symbol": "UPL",
                      "settings": json.dumps({"tick_size": 0.25, "multiplier": 2,
                                              "commission": 0.5, "initial_capital": 50_000})},
                files={"file": ("bars.csv", io.BytesIO(text), "text/csv")},
            )
            assert response.status_code == 202, response.text
            created = response.json()
            assert created["status"] == "queued"
            assert created["params"] == {"fast": 5, "slow": 20, "qty": 1.0, "long_only": False}
            done = wait_done(http, created["id"], server)
            assert done["status"] == "completed", done["error"]
            assert done["progress"] == 1.0
            assert done["report"]["rows_kept"] == 30_000
            assert done["report"]["malformed"] == {"not a number": 1}
            result = done["result"]
            assert result["candles"] == 500
            assert result["pushed"]["rejected"] == 0
            assert done["run_id"] is not None

            run = http.get(f"/api/runs/{done['run_id']}").json()
            assert run["key"] == created["run_key"]
            assert run["mode"] == "backtest"
            assert run["execution_count"] == result["fills"] > 0
            metrics = http.get(f"/api/runs/{done['run_id']}/metrics").json()
            assert metrics["trade_count"] == result["trades"]
            assert metrics["net_pnl"] == pytest.approx(result["metrics"]["net_pnl"])

            keys = http.get("/api/auth/api-keys").json()
            made = [k for k in keys if k["name"] == f"backtest #{created['id']}"]
            assert len(made) == 1
            assert made[0]["revoked_at"] is not None
            assert made[0]["scopes"] == ["ingest", "read"]  # stored bars in, the run out
            assert [b["id"] for b in http.get("/api/backtests").json()] == [created["id"]]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            m["status"] == "completed" for m in listener.of(created["id"])
        ):
            time.sleep(0.05)
    finally:
        listener.close()
    progress = listener.of(created["id"])
    assert progress[0]["status"] == "running"
    assert progress[-1]["status"] == "completed"
    assert progress[-1]["progress"] == 1.0
    assert progress[-1]["run_key"] == created["run_key"]
    fractions = [m["progress"] for m in progress if "progress" in m]
    assert fractions == sorted(fractions)

    # bob sees none of it
    with httpx.Client(base_url=server.url, headers=bob.headers, timeout=10) as http:
        assert http.get(f"/api/backtests/{created['id']}").status_code == 404
        assert http.get("/api/backtests").json() == []


def test_stored_bars_run_without_an_upload(server: LiveServer, alice: Account) -> None:
    bars = random_walk(3_600, seed=13)
    events = [
        {"type": "bar", "symbol": "STO", "timeframe": "1s", "ts": int(bars.ts[i]),
         "open": float(bars.open[i]), "high": float(bars.high[i]), "low": float(bars.low[i]),
         "close": float(bars.close[i]), "volume": float(bars.volume[i])}
        for i in range(len(bars))
    ]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        response = http.post("/api/ingest", headers=alice.ingest_headers, json={
            "source": "feed", "run": {"key": "sto-feed", "strategy": "data", "mode": "live"},
            "events": events,
        })
        assert response.json()["accepted"] == len(events)
        response = http.post(
            "/api/backtests", headers=alice.headers,
            data={"strategy": "rsi_reversion", "interval": "1m", "symbol": "STO",
                  "params": json.dumps({"period": 5})},
        )
        assert response.status_code == 202, response.text
        created = response.json()
        assert created["data_source"] == "stored"
        http.headers.update(alice.headers)
        done = wait_done(http, created["id"], server)
    assert done["status"] == "completed", done["error"]
    assert done["report"]["rows_kept"] == 3_600
    assert done["result"]["candles"] == 60


def test_a_failing_backtest_says_why(server: LiveServer, alice: Account) -> None:
    with httpx.Client(base_url=server.url, headers=alice.headers, timeout=30) as http:
        response = http.post(
            "/api/backtests",
            data={"strategy": "ma_cross", "interval": "1m"},
            files={"file": ("bars.csv", io.BytesIO(b"1700006400000,2,1,1,1,1\n"), "text/csv")},
        )
        assert response.status_code == 202, response.text
        done = wait_done(http, response.json()["id"], server)
    assert done["status"] == "failed"
    assert "no 1-second bars to run on" in done["error"]
    assert done["report"]["malformed"] == {"high/low outside open/close": 1}
