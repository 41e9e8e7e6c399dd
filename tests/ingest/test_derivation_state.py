"""A failure in storing or deriving never blocks anything else, and says so (issue 15)."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.api.app import create_app
from backend.errors import InvalidPayload
from backend.ingest.batch import PreparedBatch
from backend.ingest.derivations import Derivation, backoff_seconds
from backend.ingest.schemas import RunRef
from backend.ingest.writer_process import WriterLink
from tests.conftest import create_api_key, login, make_settings, register
from tests.ingest.helpers import app_context, batch, fill

METRICS_TOKEN = "metrics-token-for-the-derivation-tests"


def _poisoned(symbol: str) -> Any:
    def deriver(_session: object, derivation: Derivation) -> None:
        if derivation.symbol == symbol:
            raise RuntimeError(f"cannot rebuild {symbol}")

    return deriver


def _push(client: TestClient, key: dict[str, str], events: list[Any], query: str = "") -> Any:
    response = client.post(f"/api/ingest{query}", json=batch(events), headers=key)
    assert response.status_code == 200, response.text
    return response.json()


def _failures_counted(client: TestClient) -> float:
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    for line in scraped.text.splitlines():
        if line.startswith("fillbook_derivation_failures_total "):
            return float(line.split()[1])
    raise AssertionError("fillbook_derivation_failures_total is not in /metrics")


@pytest.fixture
def scraped(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(database_url, tmp_path / "data", metrics_token=METRICS_TOKEN)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def scraped_key(scraped: TestClient) -> dict[str, str]:
    register(scraped, "alice")
    return {"Authorization": f"Bearer {create_api_key(scraped, login(scraped, 'alice'))}"}


class TestFailedPositions:
    def test_a_failing_position_is_marked_backs_off_and_never_holds_up_the_rest(
        self, scraped: TestClient, scraped_key: dict[str, str]
    ) -> None:
        runner = app_context(scraped).ingest.derivations
        runner.retry_seconds = 0.2
        poison = _poisoned("BAD")
        runner.derivers.append(poison)
        result = _push(scraped, scraped_key, [
            fill("b1", "2023-12-15T14:30:00Z", "buy", 1, 100.0, symbol="BAD"),
            fill("g1", "2023-12-15T14:30:00Z", "buy", 1, 100.0, symbol="GOOD"),
            fill("g2", "2023-12-15T14:35:00Z", "sell", 1, 102.0, symbol="GOOD"),
        ], "?wait=derived")  # fmt: skip
        run_id = result["run_id"]
        state = result["derivation"]
        assert (state["state"], state["pending_positions"]) == ("failed", 0)
        [failed] = state["failed_positions"]
        assert (failed["symbol"], failed["account"], failed["attempts"]) == ("BAD", "", 1)
        assert failed["error"] == "RuntimeError: cannot rebuild BAD"
        # the rest of the run derived meanwhile
        trades = scraped.get(f"/api/runs/{run_id}/trades", headers=scraped_key).json()["items"]
        assert [(t["symbol"], t["net_pnl"]) for t in trades] == [("GOOD", 2.0)]

        time.sleep(1.6)  # back-off 0.2, 0.4, 0.8 s: a few tries, not a tight loop
        run = scraped.get(f"/api/runs/{run_id}", headers=scraped_key).json()
        [failed] = run["derivation"]["failed_positions"]
        assert 2 <= failed["attempts"] <= 5, failed
        retry_at = dt.datetime.fromisoformat(failed["retry_at"])
        assert retry_at > dt.datetime.now(dt.UTC)
        assert _failures_counted(scraped) == failed["attempts"]
        everyone = scraped.get("/api/derivation", headers=scraped_key).json()
        assert [(f["run_id"], f["symbol"]) for f in everyone["failed_positions"]] == [
            (run_id, "BAD")]  # fmt: skip

        # A fixed rebuild and a new fill: the position is due at once and derives.
        runner.derivers.remove(poison)
        result = _push(scraped, scraped_key, [
            fill("b2", "2023-12-15T14:40:00Z", "sell", 1, 99.0, symbol="BAD"),
        ], "?wait=derived&timeout=5")  # fmt: skip
        assert result["derivation"] == {
            "state": "derived", "pending_positions": 0, "failed_positions": []}  # fmt: skip
        trades = scraped.get(f"/api/runs/{run_id}/trades", headers=scraped_key).json()["items"]
        assert sorted((t["symbol"], t["net_pnl"]) for t in trades) == [
            ("BAD", -1.0), ("GOOD", 2.0)]  # fmt: skip

    def test_back_off_doubles_up_to_an_hour(self) -> None:
        assert [backoff_seconds(n, 5.0) for n in (1, 2, 3, 4)] == [5.0, 10.0, 20.0, 40.0]
        assert backoff_seconds(50, 5.0) == 3600.0


class TestWaitDerived:
    def test_answers_once_the_touched_trades_are_rebuilt(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        runner = app_context(client).ingest.derivations
        runner.derivers.append(lambda _s, _d: time.sleep(0.3))  # slower than a read
        result = _push(client, alice_key, [
            fill("a", "2023-12-15T14:30:00Z", "buy", 2, 100.0),
            fill("b", "2023-12-15T14:31:00Z", "sell", 2, 100.5, commission=0.25),
        ], "?wait=derived&timeout=10")  # fmt: skip
        assert result["derivation"]["state"] == "derived"
        # read right after the response: the trades are there
        trades = client.get(f"/api/runs/{result['run_id']}/trades", headers=alice_key).json()
        assert [t["net_pnl"] for t in trades["items"]] == [0.75]

    def test_reports_pending_when_the_bound_passes(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        runner = app_context(client).ingest.derivations
        runner.derivers.append(lambda _s, _d: time.sleep(1.0))
        started = time.monotonic()
        result = _push(client, alice_key, [fill("a", "2023-12-15T14:30:00Z", "buy", 1, 100.0)],
                       "?wait=derived&timeout=0.2")  # fmt: skip
        assert time.monotonic() - started < 0.9
        assert result["derivation"] == {
            "state": "pending", "pending_positions": 1, "failed_positions": []}  # fmt: skip
        assert runner.wait_idle()

    def test_without_wait_the_answer_does_not_wait_and_carries_no_state(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        result = _push(client, alice_key, [fill("a", "2023-12-15T14:30:00Z", "buy", 1, 100.0)])
        assert "derivation" not in result  # the contract's answer, unchanged

    @pytest.mark.parametrize("query", ["?wait=soon", "?wait=derived&timeout=0",
                                       "?wait=derived&timeout=61", "?wait=derived&timeout=x"])  # fmt: skip
    def test_bad_wait_parameters_are_a_422_naming_them(
        self, client: TestClient, alice_key: dict[str, str], query: str
    ) -> None:
        response = client.post(f"/api/ingest{query}", json=batch([]), headers=alice_key)
        assert response.status_code == 422
        assert ("wait" if "soon" in query else "timeout") in response.json()["detail"]


class TestStorageRefusals:
    """A batch storage refuses for a reason of its own: the event is named, the rest kept."""

    def test_the_refused_event_is_dead_lettered_and_the_others_stored(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        context = app_context(client)
        with context.db.engine.begin() as connection:  # storage refuses one symbol
            if context.db.is_sqlite:
                connection.execute(text(
                    "CREATE TRIGGER poison BEFORE INSERT ON execution WHEN NEW.symbol = 'POISON'"
                    " BEGIN SELECT RAISE(ABORT, 'poisoned symbol'); END"))  # fmt: skip
            else:
                connection.execute(text(
                    "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.symbol = "
                    "'POISON' THEN RAISE EXCEPTION 'poisoned symbol'; END IF; RETURN NEW; END"
                    " $$ LANGUAGE plpgsql"))  # fmt: skip
                connection.execute(text("CREATE TRIGGER poison BEFORE INSERT ON execution "
                                        "FOR EACH ROW EXECUTE FUNCTION poison()"))  # fmt: skip
        events = [
            fill("a", "2023-12-15T14:30:00Z", "buy", 1, 100.0),
            fill("p", "2023-12-15T14:30:30Z", "buy", 1, 100.0, symbol="POISON"),
            fill("b", "2023-12-15T14:31:00Z", "sell", 1, 101.0),
        ]
        result = _push(client, alice_key, events, "?wait=derived")
        assert result["accepted"] == 2
        [refused] = result["rejected"]
        assert (refused["index"], refused["id"]) == (1, "p")
        assert refused["error"].startswith("storage refused the event: ")
        assert "poisoned symbol" in refused["error"]
        assert result["derivation"]["state"] == "derived"
        trades = client.get(f"/api/runs/{result['run_id']}/trades", headers=alice_key).json()
        assert [t["net_pnl"] for t in trades["items"]] == [1.0]
        dead = client.get("/api/rejected-events", headers=alice_key).json()["items"]
        assert [(d["event_id"], d["error"]) for d in dead] == [("p", refused["error"])]
        # the writer is clean afterwards: the next batch goes in as usual
        again = _push(client, alice_key, [fill("c", "2023-12-15T14:32:00Z", "buy", 1, 99.0)])
        assert (again["accepted"], again["rejected"]) == (1, [])


class TestWriterHandOff:
    def test_a_batch_that_cannot_be_handed_over_leaves_the_writer_clean(
        self, sqlite_template: Path, tmp_path: Path
    ) -> None:
        path = tmp_path / "fillbook.db"
        shutil.copyfile(sqlite_template, path)
        settings = make_settings(f"sqlite:///{path}", tmp_path / "data", writer_process=True)
        with TestClient(create_app(settings)) as client:
            writer = app_context(client).ingest.writer
            assert isinstance(writer, WriterLink)
            run = RunRef.model_validate({"key": "k", "strategy": "s", "mode": "live"})
            # past what orjson carries: only a bypassed validator could send this
            poison = PreparedBatch(1, "src", run, [(0, {"type": "bar", "ts": 2**70})], [])
            with pytest.raises(InvalidPayload, match="cannot be stored"):
                client.portal.call(writer.submit, poison)  # type: ignore[union-attr]
            assert not writer.has_work()
            assert writer.busy_flag is None or writer.busy_flag.value == 0
            register(client, "alice")
            key = {"Authorization": f"Bearer {create_api_key(client, login(client, 'alice'))}"}
            result = _push(client, key, [fill("a", "2023-12-15T14:30:00Z", "buy", 1, 100.0)])
            assert result["accepted"] == 1
