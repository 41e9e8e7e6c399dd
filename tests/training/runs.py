"""A small run to train on: a trending 1-minute series and a strategy that went long."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from tests.ingest.helpers import push

START = dt.datetime(2024, 3, 4, 14, 30, tzinfo=dt.UTC)
BARS = 200


def iso(minutes: int) -> str:
    return (START + dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def run_batch(key: str = "trend-1", *, end: bool = True) -> dict[str, Any]:
    """200 rising 1m bars; the strategy buys at bar 20 and sells at bar 180."""
    close = 100 * np.exp(np.cumsum(np.full(BARS, 0.001)))
    events: list[dict[str, Any]] = [{"type": "instrument", "symbol": "MES", "multiplier": 5}]
    for i, price in enumerate(close):
        p = round(float(price), 4)
        events.append(
            {
                "type": "bar",
                "symbol": "MES",
                "timeframe": "1m",
                "ts": iso(i),
                "open": p,
                "high": p + 0.25,
                "low": p - 0.25,
                "close": p,
                "volume": 100 + i,
            }
        )
    events.append(
        {
            "type": "execution",
            "id": f"{key}-x-1",
            "ts": iso(20),
            "symbol": "MES",
            "side": "buy",
            "qty": 1,
            "price": round(float(close[19]), 4),
            "commission": 0.5,
        }
    )
    events.append(
        {
            "type": "execution",
            "id": f"{key}-x-2",
            "ts": iso(180),
            "symbol": "MES",
            "side": "sell",
            "qty": 1,
            "price": round(float(close[179]), 4),
            "commission": 0.5,
        }
    )
    if end:
        events.append({"type": "run_end", "ts": iso(BARS)})
    return {
        "source": "tests",
        "run": {
            "key": key,
            "strategy": "Trend",
            "instance": "MES 1m",
            "mode": "backtest",
            "initial_capital": 10000,
        },
        "events": events,
    }


def ingest(client: TestClient, key_headers: dict[str, str], batch: dict[str, Any]) -> int:
    """Push `batch` with an API key; every event must be accepted. The run's id."""
    result = push(client, key_headers, batch)
    assert not result["rejected"]
    return int(result["run_id"])


SMALL_TRAINING = {
    "model_architecture": {"hidden_layers": [16], "activation": "relu", "dueling": True},
    "hyperparameters": {
        "steps": 200,
        "learning_starts": 20,
        "batch_size": 16,
        "replay_size": 500,
        "target_update_period": 50,
        "seed": 1,
    },
    "environment": {
        "window": 4,
        "features": ["returns", "signal", "regime", "position"],
        "episode_bars": 40,
    },
}
