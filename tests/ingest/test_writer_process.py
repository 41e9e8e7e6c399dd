"""The ingest writer in a process of its own: same answers, exact values, survives a kill."""

from __future__ import annotations

import os
import shutil
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
from backend.db.models import Execution, RejectedEvent
from backend.ingest.batch import PreparedBatch, Rejection
from backend.ingest.schemas import RunRef
from backend.ingest.writer_process import WriterLink, decode, encode
from tests.conftest import create_api_key, login, make_settings, register
from tests.ingest.helpers import CONTRACT_EVENTS, app_context, batch, fill, push


def test_a_batch_crosses_the_pipe_exactly() -> None:
    events: list[tuple[int, Any]] = [
        (0, {"type": "execution", "id": "é-1", "ts": 2**63 - 1, "symbol": "MESZ3", "side": "buy",
             "qty": 0.1 + 0.2, "price": 4700.25, "commission": 5e-324}),
        (2, {"type": "bar", "symbol": "ES", "timeframe": 60, "ts": 10**18, "open": 1.0,
             "high": 2.5, "low": 0.5, "close": 1e308, "values": {"ema": -0.0, "none": None}}),
    ]  # fmt: skip
    original = PreparedBatch(
        user_id=7,
        source="nt8 ☃",
        run=RunRef.model_validate({"key": "k", "strategy": "s", "mode": "live", "params": {"a": 1}}),
        events=events,
        rejected=[Rejection(1, "x", "execution", '{"qty":-1}', "qty: must be greater than 0")],
        raw_events=[{"raw": b"\x00\xff"}, {"qty": -1}, {}],  # MessagePack bytes included
    )
    job_id, copy = decode(encode(42, original))
    assert job_id == 42
    assert copy == original
    assert copy.events[0][1]["qty"] == 0.30000000000000004
    assert copy.events[0][1]["commission"] == 5e-324


@pytest.fixture
def writer_client(sqlite_template: Path, tmp_path: Path) -> Iterator[TestClient]:
    """SQLite only: on PostgreSQL every worker process writes (docs/scaling.md)."""
    path = tmp_path / "fillbook.db"
    shutil.copyfile(sqlite_template, path)
    settings: Settings = make_settings(f"sqlite:///{path}", tmp_path / "data", writer_process=True)
    with TestClient(create_app(settings)) as client:
        yield client


def _key(client: TestClient) -> dict[str, str]:
    register(client, "alice")
    return {"Authorization": f"Bearer {create_api_key(client, login(client, 'alice'))}"}


def _count(context: AppContext, model: Any) -> int:
    with context.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


class TestWriterProcess:
    def test_batches_are_stored_and_answered_as_by_the_thread(
        self, writer_client: TestClient
    ) -> None:
        context = app_context(writer_client)
        writer = context.ingest.writer
        assert isinstance(writer, WriterLink)
        assert writer.pid is not None
        assert writer.pid != os.getpid()
        key = _key(writer_client)

        first = push(writer_client, key, batch(CONTRACT_EVENTS))
        assert (first["accepted"], first["duplicates"], first["rejected"]) == (5, 0, [])
        again = push(writer_client, key, batch(CONTRACT_EVENTS))
        assert (again["accepted"], again["duplicates"]) == (0, 5)

        bad = [fill("x-b1", "2023-12-15T15:00:00Z", "buy", -1, 4701.0),
               fill("x-b2", "2023-12-15T15:00:01Z", "buy", 1, 4701.0)]  # fmt: skip
        result = push(writer_client, key, batch(bad))
        assert result["accepted"] == 1
        assert result["rejected"] == [
            {"index": 0, "id": "x-b1", "error": "qty: must be greater than 0"}
        ]
        assert _count(context, RejectedEvent) == 1
        assert _count(context, Execution) == 2
        # on_commit ran in this process: the bar cache saw the new bar, the trades followed.
        bars = writer_client.get("/api/bars?symbol=MESZ3&timeframe=1m", headers=key).json()
        assert [b["close"] for b in bars["bars"]] == [4701.25]
        assert context.ingest.derivations.wait_idle(timeout=30)
        runs = writer_client.get("/api/runs", headers=key).json()["items"]
        trades = writer_client.get(f"/api/runs/{runs[0]['id']}/trades", headers=key).json()
        assert len(trades["items"]) == 1

    def test_the_service_starts_only_once_the_writer_has_the_database_open(
        self, writer_client: TestClient
    ) -> None:
        """Else health says 200 while the first batch still waits a second or two for a
        new process to import and connect (the chaos test's restarts lived in that gap)."""
        context = app_context(writer_client)
        writer = context.ingest.writer
        assert isinstance(writer, WriterLink)
        database = Path(str(context.db.engine.url.database)).resolve()
        fds = Path(f"/proc/{writer.pid}/fd")
        open_files = {Path(os.readlink(fd)) for fd in fds.iterdir() if fds.exists()}
        assert database in open_files

    def test_a_killed_writer_is_replaced_and_a_resent_batch_is_stored_once(
        self, writer_client: TestClient
    ) -> None:
        context = app_context(writer_client)
        writer = context.ingest.writer
        assert isinstance(writer, WriterLink)
        key = _key(writer_client)
        push(writer_client, key, batch([fill("a", "2023-12-15T15:00:00Z", "buy", 1, 10.0)]))
        first = writer.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)

        body = batch([fill(f"k{i}", "2023-12-15T15:00:01Z", "buy", 1, 10.0) for i in range(50)])
        statuses = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # an exporter resends until it gets an answer
            response = writer_client.post("/api/ingest", json=body, headers=key)
            statuses.append(response.status_code)
            if response.status_code == 200:
                break
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "ingest_unavailable"
            time.sleep(0.1)
        assert statuses[-1] == 200
        assert writer.pid not in (None, first)
        assert _count(context, Execution) == 51
        again = push(writer_client, key, body)
        assert (again["accepted"], again["duplicates"]) == (0, 50)
