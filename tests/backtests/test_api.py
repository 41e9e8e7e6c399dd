"""The backtests API in process: the strategy catalogue and every refusal before a launch."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

CSV = b"timestamp,open,high,low,close,volume\n1700000000000,1,1,1,1,1\n"


def launch(client: TestClient, headers: dict[str, str], **form: Any) -> Any:
    files = {"file": ("bars.csv", form.pop("csv"), "text/csv")} if "csv" in form else None
    data = {"strategy": "ma_cross", "interval": "5m", **form}
    return client.post("/api/backtests", data=data, files=files, headers=headers)


class TestStrategies:
    def test_lists_the_plug_ins_with_parameters(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        response = client.get("/api/strategies", headers=alice)
        assert response.status_code == 200
        strategies = {s["name"]: s for s in response.json()}
        assert {"ma_cross", "rsi_reversion", "donchian"} <= set(strategies)
        fast = next(p for p in strategies["ma_cross"]["parameters"] if p["name"] == "fast")
        assert fast == {
            "name": "fast",
            "type": "int",
            "default": 10,
            "description": "fast average length, candles",
            "minimum": 1.0,
            "maximum": 500.0,
            "step": 5.0,
            "choices": None,
        }

    def test_needs_credentials(self, client: TestClient) -> None:
        assert client.get("/api/strategies").status_code == 401


class TestLaunchRefusals:
    @pytest.mark.parametrize(
        ("form", "status", "detail"),
        [
            ({"strategy": "nope", "csv": CSV}, 422, "strategy: unknown strategy 'nope'"),
            (
                {"params": json.dumps({"fast": 0}), "csv": CSV},
                422,
                "params: fast: must be >= 1, got 0",
            ),
            (
                {"params": json.dumps({"fast": 30, "slow": 10}), "csv": CSV},
                422,
                "params: fast must be shorter than slow, got fast=30 slow=10",
            ),
            ({"params": "[1]", "csv": CSV}, 422, "params: expected a JSON object, got list"),
            ({"params": "{", "csv": CSV}, 422, "params: not JSON"),
            ({"interval": "5 minutes", "csv": CSV}, 422, "interval: must be a positive number"),
            (
                {"settings": json.dumps({"tick_size": 0}), "csv": CSV},
                422,
                "settings.tick_size: Input should be greater than 0",
            ),
            (
                {"settings": json.dumps({"both_touched": "coin"}), "csv": CSV},
                422,
                "settings.both_touched",
            ),
            ({"csv": b""}, 422, "file: the uploaded dataset is empty"),
            ({"symbol": "NOBARS"}, 404, "symbol: no 1-second bars of 'NOBARS' are stored"),
        ],
    )
    def test_says_what_is_wrong(
        self,
        client: TestClient,
        alice: dict[str, str],
        form: dict[str, Any],
        status: int,
        detail: str,
    ) -> None:
        response = launch(client, alice, **form)
        assert response.status_code == status, response.text
        assert detail in response.json()["detail"]
        assert client.get("/api/backtests", headers=alice).json() == []

    def test_a_key_without_the_backtests_scope_cannot_launch(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        response = launch(client, alice_key, csv=CSV)  # scopes ingest and read
        assert response.status_code == 403
        assert "lacks the 'backtests' scope" in response.json()["detail"]

    def test_an_unknown_backtest_is_not_found(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        response = client.get("/api/backtests/99", headers=alice)
        assert response.status_code == 404
        assert response.json()["detail"] == "backtest 99 not found"


class TestOrphans:
    def test_only_backtests_whose_process_stopped_beating_are_failed(
        self, client: TestClient, alice: dict[str, str]
    ) -> None:
        import datetime as dt

        from backend.backtests.manager import STALE_AFTER, manager
        from backend.db.models import Backtest

        context = client.app.state.context  # type: ignore[attr-defined]
        user_id = client.get("/api/auth/me", headers=alice).json()["id"]
        now = dt.datetime.now(dt.UTC)
        with context.db.session(write=True) as session:
            for key, beat in (
                ("alive", now),
                ("dead", now - STALE_AFTER - dt.timedelta(seconds=1)),
            ):
                session.add(Backtest(
                    user_id=user_id, status="running", strategy="ma_cross", interval="5m",
                    symbol="ES", data_source="upload", run_key=key, updated_at=beat,
                ))  # fmt: skip
        manager(context)._fail_orphans()  # what the heartbeat of any process does
        listed = {b["run_key"]: b for b in client.get("/api/backtests", headers=alice).json()}
        assert listed["alive"]["status"] == "running"  # another process may be running it
        assert listed["dead"]["status"] == "failed"
        assert listed["dead"]["error"] == (
            "interrupted: the server stopped before the backtest finished"
        )
