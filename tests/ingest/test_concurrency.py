"""Several exporters pushing overlapping batches at once, over real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from backend.api.app import create_app
from backend.config import Settings
from tests.ingest.helpers import RUN

CLIENTS = 8
BATCHES = 6
STEP = 150  # each batch starts STEP ids after the previous one...
SIZE = 300  # ...and holds SIZE ids, so consecutive batches overlap by half


@pytest.fixture
def live_server(settings: Settings) -> Iterator[tuple[str, Any]]:
    app = create_app(settings)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app.state.context
    finally:
        server.should_exit = True
        thread.join(20)


def _batch(client: int, number: int) -> dict[str, Any]:
    first = (client * BATCHES + number) * STEP
    events: list[dict[str, Any]] = [
        {"type": "execution", "id": f"x-{i}", "ts": 1702650600000000000 + i * 1_000_000,
         "symbol": "MESZ3" if i % 2 else "ESZ3", "side": "buy" if i % 3 else "sell",
         "qty": 1, "price": 4700 + (i % 40) * 0.25}
        for i in range(first, first + SIZE)
    ]  # fmt: skip
    events.append({"type": "instrument", "symbol": "MESZ3", "multiplier": 5})
    events.append(
        {"type": "bar", "symbol": "MESZ3", "timeframe": "1m", "ts": 1702650600000000000,
         "open": 4700, "high": 4705, "low": 4699, "close": 4701}
    )  # fmt: skip
    # every client also opens the same new run at the same moment
    return {"source": "desk", "run": {**RUN, "key": f"run-{number}"}, "events": events}


class TestConcurrentExporters:
    def test_overlapping_batches_from_eight_clients(self, live_server: tuple[str, Any]) -> None:
        base, context = live_server
        with httpx.Client(base_url=base) as setup:
            setup.post(
                "/api/auth/register", json={"username": "alice", "password": "correct horse"}
            )
            token = setup.post(
                "/api/auth/login", data={"username": "alice", "password": "correct horse"}
            )
            auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
            key = setup.post("/api/auth/api-keys", json={"name": "x"}, headers=auth).json()["key"]

        def exporter(client: int) -> list[dict[str, Any]]:
            results = []
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as http:
                for number in range(BATCHES):
                    response = http.post("/api/ingest", json=_batch(client, number))
                    assert response.status_code == 200, response.text
                    results.append(response.json())
            return results

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = [r for rs in pool.map(exporter, range(CLIENTS)) for r in rs]

        unique_fills = (CLIENTS * BATCHES - 1) * STEP + SIZE
        sent = CLIENTS * BATCHES * (SIZE + 2)
        assert [r["rejected"] for r in results if r["rejected"]] == []
        assert sum(r["accepted"] + r["duplicates"] for r in results) == sent
        with context.db.engine.connect() as connection:
            count = connection.execute(text("SELECT COUNT(*) FROM execution")).scalar_one()
            distinct = connection.execute(
                text("SELECT COUNT(DISTINCT exec_id) FROM execution")
            ).scalar_one()
            runs = connection.execute(text("SELECT COUNT(*) FROM strategy_run")).scalar_one()
            bars = connection.execute(text("SELECT COUNT(*) FROM market_bar")).scalar_one()
        assert count == distinct == unique_fills
        assert runs == BATCHES
        assert bars == 1
        # every fill, the instrument and the bar were accepted exactly once
        assert sum(r["accepted"] for r in results) == unique_fills + 2
