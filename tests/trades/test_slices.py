"""A long stale stretch is rebuilt in bounded slices, with the same trades as in one go."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.trades import rebuild
from tests.ingest.helpers import RUN, batch, fill

START = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)


def _ts(second: int) -> str:
    return (START + dt.timedelta(seconds=second)).isoformat().replace("+00:00", "Z")


def _fills() -> list[dict[str, Any]]:
    """Round trips, a stop-and-reverse that crosses zero, ties in time, and a stretch of
    30 fills that scale in and out without ever being flat (longer than the slices)."""
    events: list[dict[str, Any]] = []

    def add(second: int, side: str, qty: float, price: float) -> None:
        events.append(fill(f"x-{len(events)}", _ts(second), side, qty, price, commission=0.37))

    for n in range(6):  # round trips, two fills sharing a second
        add(10 * n, "buy", 2, 100 + n)
        add(10 * n, "sell", 1, 100.5 + n)
        add(10 * n + 5, "sell", 1, 101.25 + n)
    add(100, "buy", 3, 110.0)
    add(101, "sell", 5, 111.5)  # reverse: closes 3, opens 2 short
    add(102, "buy", 2, 109.75)
    add(200, "buy", 2, 120.0)
    for n in range(1, 30):  # never flat: between 1 and 2 lots on
        add(200 + n, "sell" if n % 2 else "buy", 1, 120 + n / 4)
    add(300, "sell", 1, 127.0)
    add(301, "buy", 1, 126.5)  # left open at the end
    return events


def _trades(client: TestClient, headers: dict[str, str], run_key: str) -> list[dict[str, Any]]:
    runs = client.get("/api/runs", headers=headers).json()["items"]
    run_id = next(r["id"] for r in runs if r["key"] == run_key)
    assert run_id
    items = client.get(f"/api/runs/{run_id}/trades?limit=500", headers=headers).json()["items"]
    return sorted(
        ({k: v for k, v in t.items() if k not in ("id", "run_id", "updated_at")} for t in items),
        key=lambda t: (t["entry_ts"], t["exit_ts"] or ""),
    )


@pytest.mark.usefixtures("rebuild_path")
def test_slices_give_the_trades_of_one_rebuild(
    client: TestClient,
    alice: dict[str, str],
    alice_key: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    derivations = client.app.state.context.ingest.derivations  # type: ignore[attr-defined]
    slices: list[float] = []
    derivations.timers.append(slices.append)
    events = _fills()
    # Slices of 6 end where the round trips are flat, slices of 7 inside a trade.
    for key, size in (("whole", 10_000), ("sixes", 6), ("sevens", 7)):
        monkeypatch.setattr(rebuild, "SLICE_FILLS", size)
        slices.clear()
        body = batch(events, source=key, run={**RUN, "key": key})
        response = client.post("/api/ingest", json=body, headers=alice_key)
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == len(events)
        assert derivations.wait_idle(timeout=30)
        if key == "whole":
            assert len(slices) == 1
        else:  # 53 fills in slices, but the 30-fill stretch never flat goes in one
            assert 4 <= len(slices) <= 53 // size
    whole = _trades(client, alice, "whole")
    assert len(whole) == 10  # 6 round trips, the reversed pair, the long one, the open one
    assert [t["open"] for t in whole].count(True) == 1
    assert _trades(client, alice, "sixes") == whole
    assert _trades(client, alice, "sevens") == whole
