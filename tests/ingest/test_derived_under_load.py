"""A run derived while its fills arrive at full speed equals the same run derived at rest.

The real server (`run_server.py`: its ingest writer and derivation worker processes) over
each database. The same fills (several symbols and accounts; scale-ins, partial exits,
reversals through zero) are pushed twice, under two sources:
- under load: shuffled into small batches that several threads push at once, so that
  derivation runs between and during them and most positions get fills older than what
  was already derived (late fills: rebuilds from the middle, seeded by stored trades);
- at rest: in one batch, derived after (`?wait=derived`).
Every derived column of every trade, and every trade's fill parts, must be equal.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from backend.db.engine import normalise_url
from tests.live_server import LiveServer

BASE_NS = 1_702_650_600_000_000_000
SYMBOLS = ("MESZ3", "MNQZ3", "M2KZ3")
ACCOUNTS = ("SIM-1", "SIM-2")
FILLS_PER_POSITION = 400
THREADS = 6
DERIVED_COLUMNS = (
    "account", "symbol", "direction", "qty", "max_position", "entry_ts", "exit_ts",
    "entry_price", "exit_price", "gross_pnl", "commission", "net_pnl", "mfe", "mae",
    "mfe_amount", "mae_amount", "exit_efficiency", "initial_risk", "r_multiple",
    "regime_trend", "regime_volatility", "is_open", "extra",
)  # fmt: skip


def fills(seed: int) -> list[dict[str, Any]]:
    """Each position a random walk: open, scale in, exit part, close, or reverse through zero;
    one fill per millisecond per position, so no two of a position share a time."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for p, (symbol, account) in enumerate((s, a) for s in SYMBOLS for a in ACCOUNTS):
        position, price = 0, 4000.0 + 1000 * p
        for n in range(FILLS_PER_POSITION):
            move = rng.random()
            if position == 0:
                qty = rng.choice((1, 2, 3)) * rng.choice((1, -1))
            elif move < 0.4:  # scale in
                qty = rng.choice((1, 2)) * (1 if position > 0 else -1)
            elif move < 0.7 and abs(position) > 1:  # exit part
                qty = -(1 if position > 0 else -1) * rng.randint(1, abs(position) - 1)
            elif move < 0.9:  # close
                qty = -position
            else:  # reverse through zero
                qty = -position - rng.choice((1, 2)) * (1 if position > 0 else -1)
            position += qty
            price = max(1.0, price + rng.randint(-8, 8) * 0.25)
            events.append({
                "type": "execution", "id": f"x-{p}-{n}", "ts": BASE_NS + n * 1_000_000 + p,
                "symbol": symbol, "account": account, "side": "buy" if qty > 0 else "sell",
                "qty": abs(qty), "price": price, "commission": round(0.37 * abs(qty), 2),
            })  # fmt: skip
    return events


def bars() -> list[dict[str, Any]]:
    """1-minute bars over the fills' span, for excursions and regimes."""
    out = []
    for p, symbol in enumerate(SYMBOLS):
        for minute in range(-30, 2):
            close = 4000.0 + 2000 * p + (minute % 7) * 0.5
            out.append({"type": "bar", "symbol": symbol, "timeframe": "1m",
                        "ts": BASE_NS + minute * 60_000_000_000, "open": close - 1,
                        "high": close + 30, "low": close - 30, "close": close, "volume": 5})  # fmt: skip
    return out


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "live", database_url=database_url)
    live.start(timeout=60)
    try:
        yield live
    finally:
        live.stop(timeout=30)


def push(http: httpx.Client, source: str, events: list[dict[str, Any]], **params: Any) -> int:
    run = {"key": "under-load", "strategy": "Derivation", "mode": "backtest"}
    body = {"source": source, "run": run, "events": events}
    response = http.post("/api/ingest", json=body, params=params)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(events), response.text
    return int(response.json()["run_id"])


def derived_trades(database_url: str, run_id: int) -> list[tuple[Any, ...]]:
    """Every derived column of the run's trades, each trade named by its first fill's id,
    with its parts (fill id, role, qty, commission), in a stable order."""
    engine = create_engine(normalise_url(database_url))
    columns = ", ".join(f"t.{c}" for c in DERIVED_COLUMNS)
    with engine.connect() as connection:
        trades = connection.execute(
            text(
                f"SELECT e.exec_id, {columns}, t.id FROM trade t"
                " JOIN execution e ON e.id = t.id WHERE t.run_id = :run"
            ),  # fmt: skip
            {"run": run_id},
        ).all()
        parts = connection.execute(
            text(
                "SELECT p.trade_id, e.exec_id, p.role, p.qty, p.commission FROM trade_fill p"
                " JOIN execution e ON e.id = p.execution_id"
                " JOIN trade t ON t.id = p.trade_id WHERE t.run_id = :run"
            ),  # fmt: skip
            {"run": run_id},
        ).all()
    engine.dispose()
    by_trade: dict[int, list[tuple[Any, ...]]] = {}
    for trade_id, *part in parts:
        by_trade.setdefault(trade_id, []).append(tuple(part))
    rows = [(*row[:-1], sorted(by_trade.get(row[-1], []))) for row in trades]
    return sorted(rows, key=lambda row: (row[1], row[2], row[6], row[0]))


class TestDerivedUnderLoad:
    def test_a_run_derived_under_full_speed_ingest_equals_one_derived_at_rest(
        self, server: LiveServer, database_url: str
    ) -> None:
        account = server.create_account("alice")
        events = fills(seed=17)
        rng = random.Random(5)
        shuffled = rng.sample(events, len(events))
        batches, start = [], 0
        while start < len(shuffled):
            size = rng.randint(10, 60)
            batches.append(shuffled[start : start + size])
            start += size
        with httpx.Client(base_url=server.url, headers=account.ingest_headers, timeout=120,
                          trust_env=False) as http:  # fmt: skip
            push(http, "bars", bars(), wait="derived")

            def send(share: list[list[dict[str, Any]]]) -> set[int]:
                with httpx.Client(base_url=server.url, headers=account.ingest_headers,
                                  timeout=120, trust_env=False) as client:  # fmt: skip
                    return {push(client, "load", batch) for batch in share}

            with ThreadPoolExecutor(THREADS) as pool:
                run_ids = set().union(
                    *pool.map(send, [batches[i::THREADS] for i in range(THREADS)])
                )
            (loaded,) = run_ids
            at_rest = push(http, "rest", events, wait="derived", timeout=60)
            for run_id in (loaded, at_rest):
                state = http.get(f"/api/runs/{run_id}", headers=account.headers).json()
                for _ in range(600):
                    if state["derivation"]["state"] == "derived":
                        break
                    time.sleep(0.05)
                    state = http.get(f"/api/runs/{run_id}", headers=account.headers).json()
                assert state["derivation"]["state"] == "derived", state["derivation"]

        expected = derived_trades(database_url, at_rest)
        got = derived_trades(database_url, loaded)
        assert len(batches) > 40
        assert len(expected) > 200  # many trades, some open, some opened by a reversal
        assert {row[DERIVED_COLUMNS.index("is_open") + 1] for row in expected} == {False, True}
        assert got == expected
