"""Deriving in a worker process: same results, listeners here, nothing lost when it dies."""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.api.app import create_app
from backend.api.context import AppContext
from backend.config import Settings
from backend.db.models import Trade
from backend.ingest.derivations import Derivation, is_importable
from backend.trades import rebuild
from backend.trades.rebuild import rebuild_position
from tests.conftest import create_api_key, login, make_settings, register
from tests.ingest.helpers import app_context, batch, fill, pending_derivations, push


def _round_trips(prefix: str, count: int, hour: int = 14) -> list[dict[str, Any]]:
    fills = []
    for i in range(count):
        minute = f"{hour}:{i:02d}"
        fills.append(fill(f"{prefix}{i}b", f"2023-12-15T{minute}:00Z", "buy", 1, 100.0 + i))
        fills.append(fill(f"{prefix}{i}s", f"2023-12-15T{minute}:30Z", "sell", 1, 101.0 + i))
    return fills


def _trades(client: TestClient, headers: dict[str, str], run_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/runs/{run_id}/trades?limit=500", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _rebuilds(context: AppContext) -> float:
    """How many derive times the rebuild_seconds histogram has observed."""
    for metric in context.metrics.rebuild_seconds.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                return float(sample.value)
    raise AssertionError("no rebuild_seconds count")


@pytest.fixture
def worker_settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path / "data", derivation_process=True)


@pytest.fixture
def worker_client(worker_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(worker_settings)) as test_client:
        yield test_client


@pytest.fixture
def sliced_worker_client(
    worker_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """A worker process that rebuilds in slices of 500 fills (here too)."""
    monkeypatch.setenv("FILLBOOK_SLICE_FILLS", "500")
    monkeypatch.setattr(rebuild, "SLICE_FILLS", 500)
    with TestClient(create_app(worker_settings)) as test_client:
        yield test_client


def _key(client: TestClient) -> dict[str, str]:
    register(client, "alice")
    return {"Authorization": f"Bearer {create_api_key(client, login(client, 'alice'))}"}


class TestDerivationWorker:
    def test_trades_are_derived_in_another_process_and_heard_here(
        self, worker_client: TestClient
    ) -> None:
        context = app_context(worker_client)
        runner = context.ingest.derivations
        assert runner.worker_pid is not None
        assert runner.worker_pid != os.getpid()
        heard: list[Derivation] = []
        runner.listeners.append(heard.extend)
        key = _key(worker_client)
        before = _rebuilds(context)

        run_id = push(worker_client, key, batch(_round_trips("a", 5)))["run_id"]
        assert runner.wait_idle(timeout=60)
        trades = _trades(worker_client, key, run_id)
        assert [(t["entry_price"], t["exit_price"], t["open"]) for t in trades] == [
            (100.0 + i, 101.0 + i, False) for i in range(5)
        ]
        assert [(d.run_id, d.symbol) for d in heard] == [(run_id, "MESZ3")]
        assert pending_derivations(context) == 0
        assert _rebuilds(context) == before + 1  # the timers heard the worker's round

    def test_a_long_stretch_is_derived_in_slices_before_it_counts_as_idle(
        self, sliced_worker_client: TestClient
    ) -> None:
        worker_client = sliced_worker_client
        context = app_context(worker_client)
        runner = context.ingest.derivations
        key = _key(worker_client)
        before = _rebuilds(context)
        fills = [
            fill(f"x{i}{side}", f"2023-12-15T14:00:00.{i:04d}{j}Z", side, 1, 100.0 + i % 7 + j)
            for i in range(1250)
            for j, side in enumerate(("buy", "sell"))
        ]  # 2,500 fills: several slices of at most SLICE_FILLS
        slices = math.ceil(len(fills) / rebuild.SLICE_FILLS)
        assert slices >= 3
        run_id = push(worker_client, key, batch(fills))["run_id"]
        assert runner.wait_idle(timeout=60)
        trades = _trades(worker_client, key, run_id)
        assert len(trades) == 500  # the first page: all are there, none open
        assert not any(t["open"] for t in trades)
        with context.db.session() as session:
            count = session.scalar(select(func.count()).select_from(Trade)) or 0
        assert count == 1250
        assert pending_derivations(context) == 0
        assert _rebuilds(context) == before + slices

    def test_a_worker_that_dies_is_replaced_and_loses_nothing(
        self, worker_client: TestClient
    ) -> None:
        context = app_context(worker_client)
        runner = context.ingest.derivations
        key = _key(worker_client)
        run_id = push(worker_client, key, batch(_round_trips("a", 2)))["run_id"]
        assert runner.wait_idle(timeout=60)
        first = runner.worker_pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while runner.worker_pid == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.worker_pid not in (None, first)

        push(worker_client, key, batch(_round_trips("b", 3, hour=15)))
        assert runner.wait_idle(timeout=60)
        assert len(_trades(worker_client, key, run_id)) == 5
        assert pending_derivations(context) == 0

    def test_work_left_pending_by_a_previous_process_is_finished(
        self, settings: Settings, worker_settings: Settings, client: TestClient,
        alice_key: dict[str, str],
    ) -> None:  # fmt: skip
        def broken(_session: object, _derivation: Derivation) -> None:
            raise RuntimeError("deriver crashed")

        app_context(client).ingest.derivations.derivers.append(broken)
        run_id = push(client, alice_key, batch(_round_trips("a", 3)))["run_id"]
        assert app_context(client).ingest.derivations.wait_idle()
        assert pending_derivations(app_context(client)) == 1
        client.__exit__(None, None, None)

        with TestClient(create_app(worker_settings)) as second:
            assert app_context(second).ingest.derivations.worker_pid is not None
            assert app_context(second).ingest.derivations.wait_idle(timeout=60)
            assert pending_derivations(app_context(second)) == 0
            assert len(_trades(second, login(second, "alice"), run_id)) == 3

    def test_a_deriver_a_worker_cannot_import_keeps_the_work_in_a_thread(
        self, worker_settings: Settings
    ) -> None:
        seen: list[Derivation] = []
        app = create_app(worker_settings)
        app.state.context.ingest.derivations.derivers.append(
            lambda _session, derivation: seen.append(derivation)
        )
        with TestClient(app) as client:
            runner = app_context(client).ingest.derivations
            assert runner.worker_pid is None
            push(client, _key(client), batch(_round_trips("a", 1)))
            assert runner.wait_idle()
            assert [d.symbol for d in seen] == ["MESZ3"]

    def test_only_functions_found_by_module_and_name_are_importable(self) -> None:
        def local(_session: object, _derivation: Derivation) -> None:
            return None

        assert is_importable(rebuild_position)
        assert not is_importable(local)
        assert not is_importable(lambda _s, _d: None)
