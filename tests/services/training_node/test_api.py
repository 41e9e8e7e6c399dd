"""The node's API: token, validation that names the field, a job's life, restarts, cancel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.training_node.app import create_app
from services.training_node.config import NodeConfig
from tests.training_node_server import NODE_TEST_TOKEN, NodeServer

HEADERS = {"Authorization": f"Bearer {NODE_TEST_TOKEN}"}


def train_body(steps: int = 200, bars: int = 200, **hyperparameters: Any) -> dict[str, Any]:
    close = (100 * np.exp(np.cumsum(np.full(bars, 0.002)))).tolist()
    return {
        "run_id": 7,
        "model_architecture": {"hidden_layers": [16], "activation": "relu", "dueling": True},
        "hyperparameters": {
            "steps": steps,
            "learning_starts": 20,
            "batch_size": 16,
            "replay_size": 500,
            "target_update_period": 50,
            **hyperparameters,
        },
        "environment": {"window": 4, "episode_bars": 40},
        "data": {
            "symbol": "MES",
            "timeframe_s": 60,
            "bars": {
                "ts": list(range(1, bars + 1)),
                "open": close,
                "high": close,
                "low": close,
                "close": close,
            },
            "strategy_position": [1.0] * bars,
        },
    }


@pytest.fixture
def api(tmp_path: Path) -> TestClient:
    config = NodeConfig(token=NODE_TEST_TOKEN, data_dir=tmp_path)
    return TestClient(create_app(config, start_scheduler=False))


class TestAuthAndValidation:
    def test_requests_without_the_token_get_401(self, api: TestClient) -> None:
        assert api.post("/train", json=train_body()).status_code == 401
        response = api.get("/jobs", headers={"Authorization": "Bearer wrong-token-0123456789"})
        assert response.status_code == 401
        assert response.json()["error"] == "not_authenticated"
        assert api.get("/health").status_code == 200

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"hyperparameters": {"gamma": 1.5}}, "hyperparameters.gamma"),
            ({"model_architecture": {"hidden_layers": [0]}}, "model_architecture.hidden_layers"),
            ({"model_architecture": {"activation": "nope"}}, "model_architecture.activation"),
            ({"environment": {"action_set": "buy_everything"}}, "environment.action_set"),
            ({"environment": {"window": 500}}, "data.bars"),
        ],
    )
    def test_invalid_settings_get_422_naming_the_field(
        self, api: TestClient, change: dict[str, Any], field: str
    ) -> None:
        body = train_body()
        for key, value in change.items():
            body[key] = {**body[key], **value}
        response = api.post("/train", json=body, headers=HEADERS)
        assert response.status_code == 422, response.text
        assert field in response.json()["detail"]

    def test_a_valid_request_is_queued(self, api: TestClient) -> None:
        response = api.post("/train", json=train_body(), headers=HEADERS)
        assert response.status_code == 202
        job_id = response.json()["job_id"]
        status = api.get(f"/status/{job_id}", headers=HEADERS).json()
        assert status["status"] == "queued"
        assert status["run_id"] == 7
        assert [j["job_id"] for j in api.get("/jobs", headers=HEADERS).json()["jobs"]] == [job_id]
        assert api.get("/status/unknown", headers=HEADERS).status_code == 404

    def test_cancel_of_a_queued_job_is_immediate(self, api: TestClient) -> None:
        job_id = api.post("/train", json=train_body(), headers=HEADERS).json()["job_id"]
        status = api.post(f"/jobs/{job_id}/cancel", headers=HEADERS).json()
        assert status["status"] == "cancelled"

    def test_node_refuses_to_start_without_a_token(self) -> None:
        with pytest.raises(ValueError, match="TRAINING_NODE_TOKEN is not set"):
            NodeConfig.from_env({})


class TestJobsInWorkerProcesses:
    def test_lifecycle_restart_and_cancel(self, tmp_path: Path) -> None:
        node = NodeServer(tmp_path / "node")
        node.start()
        try:
            with httpx.Client(base_url=node.url, headers=node.headers, timeout=10) as http:
                done = http.post("/train", json=train_body()).json()["job_id"]
                status = node.wait_for(done, ("succeeded", "failed"))
                assert status["status"] == "succeeded", status["error"]
                assert status["progress"] == 1.0
                assert status["learning_curve"]["episode_returns"]
                assert set(status["artifacts"]) == {"model", "log", "report", "plot"}
                policies = status["report"]["policies"]
                assert set(policies) == {"agent", "buy_and_hold", "flat", "strategy"}
                assert policies["flat"]["total_return"] == 0.0
                log = http.get(f"/jobs/{done}/artifacts/log").text
                assert log.splitlines()[0].startswith("step,episodes,epsilon,loss")
                png = http.get(f"/jobs/{done}/artifacts/plot").content
                assert png[:8] == b"\x89PNG\r\n\x1a\n"
                report = json.loads(http.get(f"/jobs/{done}/artifacts/report").content)
                assert report["split"]["test_bars"] == 60

                # a long job that only explores (cheap), and one queued behind it
                slow: dict[str, Any] = {
                    "epsilon_start": 1.0,
                    "epsilon_end": 1.0,
                    "learning_starts": 10_000_000,
                }
                running = http.post("/train", json=train_body(2_000_000, **slow)).json()["job_id"]
                node.wait_for(running, ("running",))
                queued = http.post("/train", json=train_body(2_000_000, **slow)).json()["job_id"]
                assert node.status(queued)["status"] == "queued"  # one at a time by default
                # the API answers while a worker trains
                assert http.get("/health").json()["running"] == 1
            node.kill()
            node.start()
            failed = node.status(running)
            assert failed["status"] == "failed"
            assert "stopped while this job was running" in failed["error"]
            node.wait_for(queued, ("running",))  # the queued job survived and runs now
            with httpx.Client(base_url=node.url, headers=node.headers, timeout=10) as http:
                http.post(f"/jobs/{queued}/cancel")
            assert (
                node.wait_for(queued, ("cancelled", "failed"), timeout=30)["status"] == "cancelled"
            )
            assert node.status(done)["status"] == "succeeded"
        finally:
            node.stop()
