"""Trades for the journal tests (tests/playbooks, tests/daily), pushed through the real pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.trades import kernel
from tests.ingest.helpers import RUN, batch, fill, push

# Run A (strategy "Stacked Imbalance"): 1 lot bought at 100 and sold at 100 + move, each
# fill paying 0.37; run B (strategy "Mean Reversion") likewise, an hour later.
MOVES_A = ["1.25", "-0.5", "0.74", "2.1", "-1.13", "0.01"]
MOVES_B = ["3.5", "-2.25"]
COMMISSION = Decimal("0.37")
STRATEGY_A, STRATEGY_B = RUN["strategy"], "Mean Reversion"


@pytest.fixture(scope="session", autouse=True)
def trade_kernel() -> None:
    assert kernel.wait(timeout=600), "the numba kernel did not compile"


def net(move: str) -> Decimal:
    """A round trip's net P&L, computed here from the inputs (not by the service)."""
    return Decimal(move) - 2 * COMMISSION


def round_trips(prefix: str, moves: list[str], hour: int) -> list[dict[str, Any]]:
    events = []
    for i, move in enumerate(moves):
        events += [
            fill(f"{prefix}{i}o", f"2023-12-15T{hour:02d}:{2 * i:02d}:00Z", "buy", 1, 100.0,
                 commission=0.37),
            fill(f"{prefix}{i}c", f"2023-12-15T{hour:02d}:{2 * i:02d}:30Z", "sell", 1,
                 float(Decimal(100) + Decimal(move)), commission=0.37),
        ]  # fmt: skip
    return events


@dataclass
class Runs:
    run_a: int
    run_b: int
    a: list[int]  # run A's trade ids, by entry
    b: list[int]


def get(client: TestClient, headers: dict[str, str], url: str) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def trade_ids(client: TestClient, headers: dict[str, str], run_id: int) -> list[int]:
    items = get(client, headers, f"/api/runs/{run_id}/trades?sort=entry_ts")["items"]
    return [int(t["id"]) for t in items]


@pytest.fixture
def runs(client: TestClient, alice: dict[str, str], alice_key: dict[str, str]) -> Runs:
    run_a = int(push(client, alice_key, batch(round_trips("a", MOVES_A, 14)))["run_id"])
    run_b = int(push(client, alice_key, batch(
        round_trips("b", MOVES_B, 15),
        run={**RUN, "key": "mr-1", "strategy": STRATEGY_B, "instance": "MR"},
    ))["run_id"])  # fmt: skip
    assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
    return Runs(run_a, run_b, trade_ids(client, alice, run_a), trade_ids(client, alice, run_b))
