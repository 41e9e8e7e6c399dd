"""`flush(wait="derived")`: read-your-writes against the real backend (and a scripted server
for the states a healthy backend does not produce on demand: pending, failed)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fillbook_exporter import Derivation, Exporter, FailedPosition

from tests.exporters.python.helpers import RUN, ScriptedServer, trades
from tests.exporters.python.test_exporter import round_trips
from tests.live_server import Account, LiveServer

FAILED = {"run_id": 1, "symbol": "MESZ3", "account": "", "error": "DomainError: too much money",
          "since": "2026-12-03T15:10:00Z", "attempts": 3, "retry_at": "2026-12-03T15:10:35Z"}


def record_requests(exporter: Exporter) -> list[httpx.URL]:
    """The URL of every request the exporter's sender makes from now on."""
    urls: list[httpx.URL] = []

    def record(request: httpx.Request) -> None:
        urls.append(request.url)

    exporter._sender._http.event_hooks["request"].append(record)
    return urls


def query(url: str | httpx.URL) -> dict[str, list[str]]:
    return parse_qs(urlsplit(str(url)).query)


def held(server: LiveServer, account: Account, tmp_path: Path, name: str, **options: Any) -> Exporter:
    """An exporter that sends only when flushed (no batch is ever due on its own)."""
    return Exporter(server.url, account.api_key, "desk", RUN, spool_path=tmp_path / name,
                    batch_size=10_000, max_batch_age=3600, **options)


class TestAgainstTheService:
    def test_trades_are_there_when_flush_returns(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        with held(server, account, tmp_path, "w.spool") as exporter:
            urls = record_requests(exporter)
            round_trips(exporter, 40)
            result = exporter.flush(timeout=20, wait="derived")
            assert exporter.derivation == result
        (url,) = urls
        assert url.path == "/api/ingest"
        params = query(url)
        assert params["wait"] == ["derived"]
        assert 0 < float(params["timeout"][0]) <= 20
        assert result == Derivation("derived", 0, ())
        # Read right away, without waiting for the backend: the trades are rebuilt.
        assert len(trades(server, account, RUN["key"])) == 20

    def test_batches_sent_before_the_flush_are_covered_too(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        with Exporter(server.url, account.api_key, "desk", RUN, spool_path=tmp_path / "b.spool",
                      batch_size=10, max_batch_age=0.01) as exporter:
            urls = record_requests(exporter)
            round_trips(exporter, 40)
            deadline = time.monotonic() + 20
            while exporter.pending() and time.monotonic() < deadline:
                time.sleep(0.01)  # the background sender delivers them all, without waiting
            assert exporter.pending() == 0
            result = exporter.flush(timeout=20, wait="derived")
        assert all("wait" not in query(url) for url in urls)
        assert result is not None
        assert result.state == "derived"  # the run's state, asked after the flush
        assert len(trades(server, account, RUN["key"])) == 20

    def test_a_plain_flush_does_not_wait(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        with held(server, account, tmp_path, "p.spool") as exporter:
            urls = record_requests(exporter)
            round_trips(exporter, 4)
            assert exporter.flush(timeout=20) is None
            assert exporter.derivation is None
        assert [query(url) for url in urls] == [{}]


class TestStates:
    def scripted(self, scripted: ScriptedServer, tmp_path: Path, **options: Any) -> Exporter:
        return Exporter(scripted.url, "key", "desk", RUN, spool_path=tmp_path / "s.spool",
                        max_batch_age=3600, **{"batch_size": 10_000, **options})

    def test_pending_after_the_bound_is_reported_not_raised(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        pending = {"derivation": {"state": "pending", "pending_positions": 3,
                                  "failed_positions": []}}
        with ScriptedServer([], [pending]) as scripted, self.scripted(scripted, tmp_path) as ex:
            round_trips(ex, 2)
            with caplog.at_level(logging.WARNING, "fillbook_exporter"):
                result = ex.flush(timeout=5, wait="derived")
        assert result == Derivation("pending", 3, ())  # the run cannot be read here: 404
        assert not result.derived
        assert "trades of the batch not derived yet: pending: 3 positions" in caplog.text
        assert 0 < float(query(scripted.paths[0])["timeout"][0]) <= 5

    def test_a_run_left_pending_is_asked_about_until_derived(self, tmp_path: Path) -> None:
        pending = {"derivation": {"state": "pending", "pending_positions": 3,
                                  "failed_positions": []}}
        runs = [{"id": 1, "derivation": {"state": "pending", "pending_positions": n,
                                         "failed_positions": []}} for n in (2, 1)]
        runs.append({"id": 1, "derivation": {"state": "derived", "pending_positions": 0,
                                             "failed_positions": []}})
        with ScriptedServer([], [pending], runs) as scripted, self.scripted(
            scripted, tmp_path
        ) as exporter:
            round_trips(exporter, 2)
            # The batch's own wait ended pending; the run's state, asked next, is derived.
            assert exporter.flush(timeout=5, wait="derived") == Derivation("derived", 0, ())
            assert scripted.get_paths == ["/api/runs/1"] * 3
            # Derived runs are forgotten: the next flush has nothing to ask about.
            assert exporter.flush(timeout=5, wait="derived") is None
            assert len(scripted.get_paths) == 3

    def test_failed_positions_are_parsed(self, tmp_path: Path) -> None:
        failed = {"derivation": {"state": "failed", "pending_positions": 1,
                                 "failed_positions": [FAILED]}}
        with ScriptedServer([], [failed]) as scripted, self.scripted(scripted, tmp_path) as ex:
            round_trips(ex, 2)
            result = ex.flush(timeout=5, wait="derived")
        assert result is not None
        assert (result.state, result.pending_positions) == ("failed", 1)
        (position,) = result.failed_positions
        assert position == FailedPosition(
            "MESZ3", "", "DomainError: too much money",
            dt.datetime(2026, 12, 3, 15, 10, tzinfo=dt.UTC), run_id=1, attempts=3,
            retry_at=dt.datetime(2026, 12, 3, 15, 10, 35, tzinfo=dt.UTC))
        assert str(result) == ("failed: MESZ3/- since 2026-12-03T15:10:00+00:00: "
                               "DomainError: too much money")

    def test_several_batches_the_worst_state_wins(self, tmp_path: Path) -> None:
        answers = [
            {"derivation": {"state": "failed", "pending_positions": 0,
                            "failed_positions": [FAILED]}},
            {"derivation": {"state": "derived", "pending_positions": 0, "failed_positions": []}},
        ]
        # The first batch is full as soon as it is spooled, so it may go out before the
        # flush asks for the wait; a 503 with Retry-After holds it until the flush did.
        script: list[tuple[int, dict[str, str]]] = [(503, {"Retry-After": "0.3"})]
        with ScriptedServer(script, answers) as scripted, self.scripted(
            scripted, tmp_path, batch_size=2
        ) as exporter:
            round_trips(exporter, 4)
            result = exporter.flush(timeout=5, wait="derived")
            assert exporter.derivation == Derivation("derived", 0, ())  # the latest answer
        assert len(scripted.paths) == 3
        assert [query(path)["wait"] for path in scripted.paths[1:]] == [["derived"]] * 2
        assert result is not None
        assert (result.state, result.batches, len(result.failed_positions)) == ("failed", 2, 1)

    def test_a_service_without_the_feature_gives_no_state(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        with ScriptedServer([]) as scripted, self.scripted(scripted, tmp_path) as exporter:
            round_trips(exporter, 2)
            with caplog.at_level(logging.WARNING, "fillbook_exporter"):
                assert exporter.flush(timeout=5, wait="derived") is None
        assert "without a derivation state" in caplog.text

    def test_a_bad_wait_is_refused(self, tmp_path: Path) -> None:
        with ScriptedServer([]) as scripted, self.scripted(scripted, tmp_path) as exporter:
            with pytest.raises(ValueError, match="wait: must be None or 'derived', got 'trades'"):
                exporter.flush(wait="trades")  # type: ignore[arg-type]


class TestParse:
    def test_merge(self) -> None:
        assert Derivation.merge([]) is None
        merged = Derivation.merge([Derivation("pending", 4), Derivation("pending", 2),
                                   Derivation("derived")])
        assert merged == Derivation("pending", 2, (), batches=3)

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"state": "done"}, "derivation.state: expected one of derived, pending, failed"),
            ({"state": "pending", "pending_positions": -1}, "pending_positions: expected a count"),
            ({"state": "failed", "failed_positions": {}}, "failed_positions: expected a list"),
            ({"state": "failed", "failed_positions": [{"since": "yesterday"}]},
             r"failed_positions\[0\].since: expected an ISO-8601 time, got 'yesterday'"),
        ],
    )
    def test_what_is_not_a_derivation_state(self, body: dict[str, Any], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            Derivation.parse(body)
