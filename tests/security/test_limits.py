"""Issue 16, medium: weak secrets refused at start; per-user limits on shared work."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from backend.api.app import create_app
from backend.config import Settings
from backend.db.models import Backtest
from services.training_node.settings import TrainingSettings
from tests.conftest import make_settings
from tests.ingest.helpers import app_context
from tests.live_server import PROJECT_ROOT


class TestSecrets:
    @pytest.mark.parametrize(
        ("name", "value", "problem"),
        [
            ("secret_key", "", "SECRET_KEY is empty; it must be at least 32"),
            ("secret_key", "s3cret", "SECRET_KEY is 6 characters; it must be at least 32"),
            ("metrics_token", "", "METRICS_TOKEN is empty; it must be at least 16"),
            ("training_node_token", "tok", "TRAINING_NODE_TOKEN is 3 characters"),
        ],
    )
    def test_a_weak_secret_is_refused(self, name: str, value: str, problem: str) -> None:
        with pytest.raises(ValidationError, match=problem):
            Settings.model_validate({name: value})

    def test_the_server_refuses_to_start_with_one_and_says_why(self, tmp_path: Path) -> None:
        started = subprocess.run(
            [sys.executable, "run_server.py", "--port", "1"], cwd=PROJECT_ROOT, timeout=60,
            capture_output=True, text=True,
            env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "SECRET_KEY": "",
                 "METRICS_TOKEN": "short"},
        )  # fmt: skip
        assert started.returncode == 1
        assert "SECRET_KEY is empty" in started.stderr
        assert "METRICS_TOKEN is 5 characters" in started.stderr
        assert "Traceback" not in started.stderr


class TestSharedWork:
    def test_replay_memory_past_the_node_is_a_422_naming_the_field(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        too_big = {"hyperparameters": {"replay_size": 5_000_000},
                   "environment": {"window": 512, "features": ["returns", "range", "volume",
                                                               "regime", "signal", "position"]}}  # fmt: skip
        with pytest.raises(ValidationError, match=r"114\.5 GiB of replay memory; at most 2 GiB"):
            TrainingSettings.model_validate(too_big)
        response = client.post("/api/runs/1/training", json=too_big, headers=alice)
        assert response.status_code == 422
        assert "hyperparameters.replay_size" in response.json()["detail"]

    def test_backtests_past_the_users_limit_are_a_429(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path / "data", max_backtests_per_user=1)
        with TestClient(create_app(settings)) as client:
            client.post("/api/auth/register", json={"username": "alice", "password": "correct horse"})
            token = client.post("/api/auth/login", data={"username": "alice",
                                                         "password": "correct horse"}).json()  # fmt: skip
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            with app_context(client).db.session(write=True) as session:  # one already running
                session.add(Backtest(user_id=1, status="running", strategy="ma_cross",
                                     interval="1m", params={}, symbol="X", data_source="upload",
                                     settings={}, run_key="k"))  # fmt: skip
            response = client.post(
                "/api/backtests", headers=headers, data={"strategy": "ma_cross"},
                files={"file": ("bars.csv", io.BytesIO(b"1700000000000,1,1,1,1,1\n"), "text/csv")},
            )  # fmt: skip
        assert response.status_code == 429
        assert "at most 1 at a time (MAX_BACKTESTS_PER_USER)" in response.json()["detail"]
        assert int(response.headers["Retry-After"]) > 0

    def test_a_journal_import_is_parsed_as_it_arrives_and_bounded(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        header = orjson.dumps({"kind": "header", "format": "fillbook-journal", "version": 1})
        run = orjson.dumps({"kind": "run", "source": "s", "key": "k", "strategy": "x",
                            "mode": "live"})  # fmt: skip

        def body() -> object:
            yield header + b"\n" + run + b"\n"
            yield b'{"kind": "wat"}\n'
            for _ in range(1000):  # a client that would go on: the bad line answers first
                yield b"\n" * 65536

        response = client.post("/api/import", content=body(), headers=alice)
        assert response.status_code == 422
        assert response.json()["detail"] == "line 3: unknown kind 'wat'"
        long_line = client.post("/api/import", content=header + b"\n" + b"x" * (17 * 1024 * 1024),
                                headers=alice)  # fmt: skip
        assert long_line.status_code == 413
        assert "longer than 16777216 bytes" in long_line.json()["detail"]
