"""Building batches the way exporters send them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.context import AppContext
from backend.db.models import PendingDerivation

RUN = {
    "key": "2023-12-15-live",
    "strategy": "Stacked Imbalance",
    "instance": "MES 5m aggressive",
    "mode": "live",
    "params": {"imbalance_ratio": 3.0},
    "initial_capital": 25000,
}

CONTRACT_EVENTS: list[dict[str, Any]] = [
    {
        "type": "instrument",
        "symbol": "MESZ3",
        "multiplier": 5,
        "tick_size": 0.25,
        "currency": "USD",
    },
    {
        "type": "order",
        "id": "o-17:working",
        "order_id": "o-17",
        "ts": "2023-12-15T14:30:00.120Z",
        "symbol": "MESZ3",
        "side": "buy",
        "order_type": "limit",
        "qty": 2,
        "limit_price": 4700.25,
        "status": "working",
        "tif": "day",
        "parent_id": None,
    },
    {
        "type": "execution",
        "id": "x-9001",
        "order_id": "o-17",
        "ts": "2023-12-15T14:30:01.003Z",
        "symbol": "MESZ3",
        "side": "buy",
        "qty": 2,
        "price": 4700.25,
        "commission": 0.74,
    },
    {
        "type": "bar",
        "symbol": "MESZ3",
        "timeframe": "1m",
        "ts": "2023-12-15T14:30:00Z",
        "open": 4700.0,
        "high": 4701.5,
        "low": 4699.75,
        "close": 4701.25,
        "volume": 1834,
    },
    {"type": "run_end", "ts": "2023-12-15T21:00:00Z"},
]


def batch(
    events: list[dict[str, Any]] | list[Any],
    *,
    source: str = "quantower-desk-1",
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {"source": source, "run": run or RUN, "events": events}


def fill(
    exec_id: str, ts: str, side: str, qty: float, price: float, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "execution",
        "id": exec_id,
        "ts": ts,
        "symbol": extra.pop("symbol", "MESZ3"),
        "side": side,
        "qty": qty,
        "price": price,
        **extra,
    }


def push(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/ingest", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def app_context(client: TestClient) -> AppContext:
    """The running app's context (its database, ingest service, derivations)."""
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def pending_derivations(context: AppContext) -> int:
    with context.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(PendingDerivation)) or 0)
