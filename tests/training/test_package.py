"""What the backend sends the node: bars over the run's span, positions, regimes, trades."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.db.models import StrategyRun
from backend.training.package import build_request
from backend.training.schemas import TrainingCreate
from tests.training.runs import BARS, SMALL_TRAINING, ingest, run_batch


class TestBuildRequest:
    def test_payload_of_a_run(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        run_id = ingest(client, alice_key, run_batch())
        client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        db = client.app.state.context.db  # type: ignore[attr-defined]
        with db.session() as session:
            run = session.get(StrategyRun, run_id)
            payload = build_request(session, run, TrainingCreate.model_validate(SMALL_TRAINING))
        data = payload["data"]
        assert data["symbol"] == "MES"
        assert data["timeframe_s"] == 60
        assert len(data["bars"]["ts"]) == BARS
        assert data["bars"]["volume"][:2] == [100.0, 101.0]
        position = data["strategy_position"]
        # bought at bar 20's open: held from bar 20's close; sold at bar 180's open
        assert position[19] == 0.0
        assert position[20] == 1.0
        assert position[179] == 1.0
        assert position[180] == 0.0
        assert sum(position) == 160.0
        assert len(data["regime"]["trend"]) == BARS
        assert data["regime"]["trend"][0] == -1  # no history before the first bar
        assert [(f["side"], f["qty"], f["commission"]) for f in data["fills"]] == [
            ("buy", 1.0, 0.5),
            ("sell", 1.0, 0.5),
        ]
        assert [t["direction"] for t in data["trades"]] == ["long"]
        assert data["trades"][0]["net_pnl"] == pytest.approx(
            (data["bars"]["close"][179] - data["bars"]["close"][19]) * 5 - 1.0, abs=1e-3
        )
        assert data["initial_capital"] == 10000.0
        assert payload["environment"]["periods_per_year"] == 252.0 * 1440

    def test_a_symbol_without_bars_is_422(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        run_id = ingest(client, alice_key, run_batch())
        body = {**SMALL_TRAINING, "symbol": "NQ"}
        response = client.post(f"/api/runs/{run_id}/training", json=body, headers=alice)
        assert response.status_code == 422
        assert response.json()["detail"].startswith("symbol: no bars of 'NQ'")


class TestLiveChannel:
    def test_job_changes_reach_the_users_stream(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        run_id = ingest(client, alice_key, run_batch())
        token = alice["Authorization"].removeprefix("Bearer ")
        with client.websocket_connect(f"/api/stream?token={token}") as socket:
            assert socket.receive_json()["type"] == "hello"
            response = client.post(
                f"/api/runs/{run_id}/training", json=SMALL_TRAINING, headers=alice
            )
            assert response.status_code == 503
            job_id = client.get("/api/training/jobs", headers=alice).json()["jobs"][0]["id"]
            client.post(f"/api/training/jobs/{job_id}/cancel", headers=alice)
            messages: list[dict[str, Any]] = []
            while not messages or messages[-1].get("status") != "cancelled":
                message = socket.receive_json()
                if message["type"] == "training_progress":
                    messages.append(message)
        assert messages[-1] == {
            "type": "training_progress",
            "job_id": job_id,
            "run_id": run_id,
            "status": "cancelled",
            "progress": 0.0,
            "error": "cancelled before it was submitted",
        }
