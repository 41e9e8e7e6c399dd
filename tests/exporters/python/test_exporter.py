"""The exporter against a real backend process (and a scripted HTTP server for failures)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fillbook_exporter import Exporter, ExporterError, IdGenerator, RejectedEvent, Spool, to_ns
from fillbook_exporter.sender import Backoff, retry_after

from tests.exporters.python.helpers import (
    BASE_NS,
    RUN,
    ScriptedServer,
    pages,
    run_id,
    trades,
    wait_derived,
)
from tests.live_server import Account, LiveServer, free_port

ROOT = Path(__file__).resolve().parents[3]


def round_trips(exporter: Exporter, count: int, *, start: int = 0) -> list[str]:
    """`count` fills alternating buy/sell of 1 MESZ3, 1 s apart; returns their ids."""
    return [
        exporter.execution(
            BASE_NS + n * 1_000_000_000, "MESZ3", "buy" if n % 2 == 0 else "sell", 1,
            4700.0 + (n % 5) * 0.25, commission=0.5, order_id=f"o-{n}",
        )
        for n in range(start, start + count)
    ]


class TestEvents:
    def test_times_become_epoch_ns(self) -> None:
        aware = dt.datetime(2023, 12, 15, 15, 30, 0, 120_000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
        assert to_ns(aware) == BASE_NS + 120_000_000
        assert to_ns(pd.Timestamp("2023-12-15T14:30:00.000000001Z")) == BASE_NS + 1
        assert to_ns("2023-12-15T14:30:00Z") == "2023-12-15T14:30:00Z"

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (dt.datetime(2023, 12, 15, 14, 30), "naive datetime 2023-12-15T14:30:00"),  # noqa: DTZ001
            ("2023-12-15T14:30:00", "without an offset"),
            (1_702_650_600, "too small"),
        ],
    )
    def test_ambiguous_times_are_refused_at_the_call(self, value: object, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            to_ns(value)  # type: ignore[arg-type]

    def test_generated_ids_are_deterministic_and_count_repeats(self) -> None:
        fill = {"type": "execution", "ts": BASE_NS, "symbol": "MESZ3", "side": "buy",
                "qty": 1, "price": 4700.0}
        first = IdGenerator("desk", "run")
        ids = [first(fill), first(fill), first({**fill, "qty": 2})]
        assert len(set(ids)) == 3  # two identical fills are two fills
        again = IdGenerator("desk", "run")
        assert [again(fill), again(fill), again({**fill, "qty": 2})] == ids
        assert IdGenerator("desk", "other run")(fill) != ids[0]
        assert ids[0].startswith("x-")


class TestDelivery:
    def test_every_event_arrives_once_and_a_resend_is_duplicate(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        run = {**RUN, "initial_capital": 25_000}
        with Exporter(server.url, account.api_key, "desk", run, spool_path=tmp_path / "a.spool",
                      batch_size=100, max_batch_age=0.05) as exporter:
            exporter.instrument("MESZ3", multiplier=5, tick_size=0.25, currency="USD")
            exporter.order("o-0", BASE_NS, "MESZ3", "buy", "limit", 1, "working",
                           limit_price=4700.0)
            ids = round_trips(exporter, 250)
            exporter.bar("MESZ3", "1m", BASE_NS, 4700.0, 4701.0, 4699.0, 4700.5, volume=12)
            exporter.flush(timeout=30)
            assert exporter.pending() == 0
            assert exporter.stats["accepted"] == 253
        rid = run_id(server, account, RUN["key"])
        stored = list(pages(server, account, f"/api/runs/{rid}/executions"))
        assert sorted(row["id"] if "id" in row else row["exec_id"] for row in stored) == sorted(ids)

        # The same events again from a fresh process-like exporter: all duplicates.
        with Exporter(server.url, account.api_key, "desk", run, spool_path=tmp_path / "b.spool",
                      batch_size=1000) as again:
            assert round_trips(again, 250) == ids
            again.flush(timeout=30)
            assert again.stats == {"batches": 1, "accepted": 0, "duplicates": 250,
                                   "rejected": 0, "retries": 0}
        wait_derived(server)
        assert len(trades(server, account, RUN["key"])) == 125

    def test_messagepack(self, server: LiveServer, account: Account, tmp_path: Path) -> None:
        with Exporter(server.url, account.api_key, "desk", RUN, spool_path=tmp_path / "m.spool",
                      fmt="msgpack") as exporter:
            round_trips(exporter, 40)
            exporter.bar("MESZ3", "1m", BASE_NS, 4700.0, 4701.0, 4699.0, 4700.5, series="run",
                         values={"sma": 4700.2})
            exporter.flush(timeout=30)
            assert exporter.stats["accepted"] == 41
            assert exporter.stats["rejected"] == 0
        rid = run_id(server, account, RUN["key"])
        assert len(list(pages(server, account, f"/api/runs/{rid}/executions"))) == 40

    def test_amend_and_remove(self, server: LiveServer, account: Account, tmp_path: Path) -> None:
        with Exporter(server.url, account.api_key, "desk", RUN,
                      spool_path=tmp_path / "s.spool") as exporter:
            exporter.execution(BASE_NS, "MESZ3", "buy", 1, 4700.0, id="x-1")
            exporter.execution(BASE_NS + 10**9, "MESZ3", "sell", 1, 4701.0, id="x-2")
            exporter.amend_execution("x-2", BASE_NS + 10**9, "MESZ3", "sell", 1, 4702.0)
            exporter.execution(BASE_NS + 2 * 10**9, "MESZ3", "buy", 1, 4703.0, id="x-3")
            exporter.remove_execution("x-3")
            exporter.flush(timeout=30)
            assert exporter.stats["rejected"] == 0
        rid = run_id(server, account, RUN["key"])
        fills = {row["id"]: row for row in pages(
            server, account, f"/api/runs/{rid}/executions", include_removed="true")}
        assert fills["x-2"]["price"] == 4702.0
        assert fills["x-3"]["removed"] is True

    def test_rejected_events_reach_the_callback_and_leave_the_spool(
        self, server: LiveServer, account: Account, tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        refused: list[RejectedEvent] = []
        with Exporter(server.url, account.api_key, "desk", RUN, spool_path=tmp_path / "r.spool",
                      on_rejected=refused.append) as exporter:
            exporter.execution(BASE_NS, "MESZ3", "buy", 1, 4700.0, id="x-good")
            # qty 0 is refused at the call now (test_domain.py); a side is not checked here.
            exporter.event({"type": "execution", "id": "x-bad", "ts": BASE_NS, "symbol": "MESZ3",
                            "side": "hold", "qty": 1, "price": 4700.0})
            exporter.event({"type": "dividend", "symbol": "MESZ3"})
            exporter.flush(timeout=30)
            assert exporter.pending() == 0
            status = exporter.spool.status()
        assert [(r.id, r.index, r.error) for r in refused] == [
            ("x-bad", 1, refused[0].error),
            (None, 2, refused[1].error),
        ]
        assert "dividend" in refused[1].error
        assert refused[0].error.startswith("side: ")
        assert refused[0].event["side"] == "hold"
        assert status[0].rejected == 2
        assert "ingest rejected event x-bad" in caplog.text
        dead = httpx.get(f"{server.url}/api/rejected-events", headers=account.headers).json()
        assert len(dead["items"]) == 2


class TestFailures:
    def test_401_stops_the_sender_and_keeps_the_events(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        spool = tmp_path / "401.spool"
        exporter = Exporter(server.url, "not-a-key", "desk", RUN, spool_path=spool)
        round_trips(exporter, 10)
        with pytest.raises(ExporterError, match="401") as caught:
            exporter.flush(timeout=60)
        assert caught.value.status_code == 401
        assert exporter.error is caught.value
        assert exporter.pending() == 10
        with pytest.raises(ExporterError):
            exporter.close()
        # The right key on the same spool sends what waited.
        with Exporter(server.url, account.api_key, "desk", RUN, spool_path=spool) as fixed:
            fixed.flush(timeout=30)
            assert fixed.stats["accepted"] == 10

    def test_422_run_conflict_stops_with_the_reason(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        with Exporter(server.url, account.api_key, "desk", RUN,
                      spool_path=tmp_path / "a.spool") as exporter:
            round_trips(exporter, 2)
        other = {**RUN, "strategy": "Someone else"}
        exporter = Exporter(server.url, account.api_key, "desk", other,
                            spool_path=tmp_path / "b.spool")
        round_trips(exporter, 2, start=2)
        with pytest.raises(ExporterError, match="has strategy 'Exporter test'") as caught:
            exporter.flush(timeout=60)
        assert caught.value.status_code == 422
        assert exporter.pending() == 2
        with pytest.raises(ExporterError):  # close() says the events could not be delivered
            exporter.close()

    def test_backoff_is_exponential_capped_and_jittered(self, tmp_path: Path) -> None:
        script: list[tuple[int, dict[str, str]]] = [(503, {})] * 5
        with ScriptedServer(script) as scripted, Exporter(
            scripted.url, "key", "desk", RUN, spool_path=tmp_path / "b.spool",
            backoff_base=0.1, backoff_cap=0.4,
        ) as exporter:
            round_trips(exporter, 3)
            exporter.flush(timeout=60)
            delays = exporter._sender.last_delays
        assert len(scripted.request_times) == 6
        bounds = [(0.05, 0.1), (0.1, 0.2), (0.2, 0.4), (0.2, 0.4), (0.2, 0.4)]
        for delay, gap, (low, high) in zip(delays, scripted.gaps(), bounds, strict=True):
            assert low <= delay <= high
            assert delay <= gap < delay + 0.6  # the wait is the delay (slack: a busy CI)
        assert len(set(delays)) == 5  # jittered
        assert len(scripted.bodies[0]["events"]) == 3

    def test_retry_after_is_honoured(self, tmp_path: Path) -> None:
        script = [(429, {"Retry-After": "1"}), (503, {"Retry-After": "0.3"})]
        with ScriptedServer(script) as scripted, Exporter(
            scripted.url, "key", "desk", RUN, spool_path=tmp_path / "r.spool",
            backoff_base=0.01, backoff_cap=0.02,
        ) as exporter:
            round_trips(exporter, 1)
            exporter.flush(timeout=60)
        gaps = scripted.gaps()
        assert 1.0 <= gaps[0] < 1.8
        assert 0.3 <= gaps[1] < 1.0

    def test_a_200_that_is_not_an_ingest_result_is_resent(self, tmp_path: Path) -> None:
        with ScriptedServer([(200, {})]) as scripted, Exporter(
            scripted.url, "key", "desk", RUN, spool_path=tmp_path / "p.spool",
            backoff_base=0.01, backoff_cap=0.02,
        ) as exporter:
            round_trips(exporter, 2)
            exporter.flush(timeout=60)
            assert exporter.stats["retries"] == 1
        assert len(scripted.request_times) == 2
        assert len(scripted.bodies[0]["events"]) == 2

    def test_retry_after_forms(self) -> None:
        assert retry_after("7") == 7.0
        assert retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
        assert retry_after("soon") is None
        assert retry_after(None) is None
        assert Backoff(1.0, 8.0).delay(10, __import__("random").Random(1)) <= 8.0

    def test_network_errors_are_retried_until_the_service_is_back(
        self, tmp_path: Path
    ) -> None:
        port = free_port()
        backend = LiveServer(tmp_path / "late", port=port)
        exporter = Exporter(backend.url, "pending", "desk", RUN, spool_path=tmp_path / "n.spool",
                            backoff_base=0.05, backoff_cap=0.2, max_batch_age=0.01)
        try:
            exporter.execution(BASE_NS, "MESZ3", "buy", 1, 4700.0, id="x-1")
            time.sleep(0.5)
            assert exporter.stats["retries"] >= 2  # connection refused, again and again
            assert exporter.pending() == 1
        finally:
            exporter.close(timeout=0)
        with backend:
            account = backend.create_account("late")
            with Exporter(backend.url, account.api_key, "desk", RUN,
                          spool_path=tmp_path / "n.spool") as resumed:
                resumed.flush(timeout=30)
                assert resumed.stats["accepted"] == 1


SPOOLING_CHILD = textwrap.dedent(
    """
    import sys, time
    from fillbook_exporter import Exporter
    url, spool = sys.argv[1], sys.argv[2]
    exporter = Exporter(url, "key", "desk", {"key": "r-1", "strategy": "Exporter test",
                        "mode": "backtest"}, spool_path=spool)
    for n in range(500):
        exporter.execution(1_702_650_600_000_000_000 + n * 10**9, "MESZ3",
                           "buy" if n % 2 == 0 else "sell", 1, 4700.0, commission=0.5)
    print("spooled", flush=True)
    time.sleep(60)
    """
)


class TestResume:
    def test_a_killed_process_leaves_its_spool_to_the_next(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        spool = tmp_path / "resume.spool"
        dead_url = f"http://127.0.0.1:{free_port()}"  # nothing listens: every send fails
        child = subprocess.Popen(
            [sys.executable, "-c", SPOOLING_CHILD, dead_url, str(spool)],
            stdout=subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == b"spooled"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        left = Spool(spool)
        assert left.pending() == 500
        left.close()
        with Exporter(server.url, account.api_key, "desk", RUN, spool_path=spool) as resumed:
            resumed.flush(timeout=30)
            assert resumed.stats["accepted"] == 500
        wait_derived(server)
        assert len(trades(server, account, RUN["key"])) == 250
