"""The SDK refuses, at the call, what the service's input domain refuses (fillbook_exporter/domain.py)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pandas as pd
import pytest
from fillbook_exporter import DomainError, Exporter, domain, to_ns
from fillbook_exporter.events import check_event

from backend.ingest import domain as service_domain
from tests.exporters.python.helpers import BASE_NS, RUN, run_id
from tests.live_server import Account, LiveServer

UTC = dt.UTC


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[Exporter]:
    """An exporter that never sends (nothing listens, and no batch is ever due)."""
    exporter = Exporter("http://127.0.0.1:9", "key", "desk", RUN, spool_path=tmp_path / "d.spool",
                        batch_size=10_000, max_batch_age=3600)
    try:
        yield exporter
    finally:
        exporter.close(timeout=0)


MIRRORED = ("NS_PER_SECOND", "MIN_TS_NS", "MAX_TS_NS", "MAX_TS_TEXT", "AMOUNT_QUANTUM",
            "MIN_AMOUNT", "MAX_AMOUNT", "MAX_CAPITAL", "MAX_TIMEFRAME_SECONDS")


class TestLimits:
    @pytest.mark.parametrize("name", MIRRORED)
    def test_each_constant_is_the_services(self, name: str) -> None:
        # The SDK must not import the backend; the tests may, to keep the copies equal.
        ours, theirs = getattr(domain, name), getattr(service_domain, name)
        assert (ours, type(ours)) == (theirs, type(theirs)), f"change {name} in both"

    def test_the_constants(self) -> None:
        assert domain.MAX_TS_NS == 7_258_118_400_000_000_000
        assert dt.datetime.fromtimestamp(domain.MAX_TS_NS / 1e9, UTC) == dt.datetime(
            2200, 1, 1, tzinfo=UTC)
        assert (domain.MIN_AMOUNT, domain.MAX_AMOUNT, domain.MAX_CAPITAL) == (1e-8, 9e7, 1e10)
        # Below MAX_AMOUNT a float still holds 8 decimals: x * 1e8 rounds to an exact integer.
        assert domain.MAX_AMOUNT * 1e8 < 2**53

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (1e-9, "qty: must be at least 1e-08 (the smallest amount counted), got 1e-09"),
            (0, "qty: must be greater than 0, got 0"),
            (-2.0, "qty: must be greater than 0, got -2.0"),
            (90_000_000.5, "qty: must be at most 90,000,000 (above it a float no longer holds "
                           "8 decimals exactly), got 90000000.5"),
            (10**30, "qty: must be at most 90,000,000"),
            (math.nan, "qty: must be finite, got nan"),
            (math.inf, "qty: must be finite, got inf"),
        ],
    )
    def test_positive_amounts(self, value: float, message: str) -> None:
        with pytest.raises(DomainError) as caught:
            domain.positive_amount(value, "qty")
        assert str(caught.value).startswith(message)

    def test_the_edges_are_inside(self) -> None:
        assert domain.positive_amount(1e-8, "qty") == 1e-8
        assert domain.positive_amount(90_000_000, "qty") == 90_000_000
        assert domain.positive_amount(Decimal("4700.25"), "price") == 4700.25
        assert domain.amount(0, "commission") == 0
        assert domain.amount(90_000_000.0, "commission") == 9e7
        assert domain.capital(10_000_000_000) == 10_000_000_000
        assert domain.volume(1e300, "volume") == 1e300

    @pytest.mark.parametrize(
        ("check", "value", "message"),
        [
            (domain.amount, -0.01, "commission: must be greater than or equal to 0, got -0.01"),
            (domain.amount, 1e8, "commission: must be at most 90,000,000"),
            (domain.amount, math.nan, "commission: must be finite, got nan"),
            (domain.volume, -1, "commission: must be greater than or equal to 0, got -1"),
            (domain.volume, math.inf, "commission: must be finite, got inf"),
            (domain.capital, 0, "commission: must be at least 1e-08, got 0"),
            (domain.capital, 1e10 + 1, "commission: must be at most 10,000,000,000, got"),
        ],
    )
    def test_other_amounts(self, check: Any, value: float, message: str) -> None:
        with pytest.raises(DomainError, match=f"^{message}"):
            check(value, "commission")

    def test_numbers_only(self) -> None:
        for value in (True, "1.5", None):
            with pytest.raises(TypeError, match="qty: expected a number"):
                domain.positive_amount(value, "qty")  # type: ignore[arg-type]

    def test_timeframes(self) -> None:
        assert domain.timeframe_seconds("366d") == 366 * 86_400
        with pytest.raises(DomainError, match=r"timeframe: must be at most 366d, got '367d'"):
            domain.timeframe_seconds("367d")
        with pytest.raises(DomainError, match=r"a unit s, m, h or d .* got '5x'"):
            domain.timeframe_seconds("5x")


class TestTimes:
    def test_the_edges(self) -> None:
        assert to_ns(domain.MAX_TS_NS - 1) == domain.MAX_TS_NS - 1
        assert to_ns("1970-01-01T00:00:00Z") == "1970-01-01T00:00:00Z"
        assert to_ns("2199-12-31T23:59:59.999999999Z") == "2199-12-31T23:59:59.999999999Z"
        assert to_ns("2200-01-01T00:59:59+01:00") == "2200-01-01T00:59:59+01:00"
        assert to_ns(dt.datetime(2199, 12, 31, 23, 59, tzinfo=UTC)) == 7_258_118_340 * 10**9

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (7_258_118_400_000_000_000, "ts: must be before 2200-01-01T00:00:00Z (epoch ns "
                                        "7258118400000000000), got 7258118400000000000"),
            (10**16, "ts: integers are epoch nanoseconds, got 10000000000000000 (too small"),
            ("2200-01-01T00:00:00Z", "ts: must be before 2200-01-01T00:00:00Z, got "
                                     "'2200-01-01T00:00:00Z'"),
            ("2200-01-01T01:00:00+01:00x", "ts: not an ISO-8601 date-time"),
            ("1969-12-31T23:59:59.999Z", "ts: must be on or after 1970-01-01T00:00:00Z"),
            ("2024-02-30T10:00:00Z", "ts: not a valid date-time: '2024-02-30T10:00:00Z'"),
            (dt.datetime(2200, 1, 1, tzinfo=UTC), "ts: must be before 2200-01-01T00:00:00Z, "
                                                  "got 2200-01-01T00:00:00+00:00"),
            (dt.datetime(1969, 12, 31, 23, tzinfo=UTC), "ts: must be on or after 1970"),
            (pd.Timestamp("2250-01-01T00:00:00Z"), "ts: must be before 2200"),
        ],
    )
    def test_outside_is_refused(self, value: Any, message: str) -> None:
        with pytest.raises(ValueError, match="^ts: ") as caught:
            to_ns(value)
        assert str(caught.value).startswith(message)

    def test_a_datetime_before_1973_goes_as_text(self) -> None:
        # Epoch ns below 1e17 would read as microseconds on the service; ISO text does not.
        assert to_ns(dt.datetime(1971, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == (
            "1971-05-01T10:00:00.000000000Z")
        assert to_ns(pd.Timestamp("1970-01-01T00:00:00.000000001Z")) == (
            "1970-01-01T00:00:00.000000001Z")


class TestExporterRefuses:
    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda e: e.execution(BASE_NS, "MESZ3", "buy", 1e-9, 4700.0),
             "qty: must be at least 1e-08 (the smallest amount counted), got 1e-09"),
            (lambda e: e.execution(BASE_NS, "MESZ3", "buy", 1, 9e7 + 1),
             "price: must be at most 90,000,000"),
            (lambda e: e.execution(BASE_NS, "MESZ3", "buy", 1, 4700.0, commission=-1),
             "commission: must be greater than or equal to 0, got -1"),
            (lambda e: e.execution(domain.MAX_TS_NS, "MESZ3", "buy", 1, 4700.0),
             "ts: must be before 2200-01-01T00:00:00Z"),
            (lambda e: e.execution(BASE_NS, "MESZ3", "buy", True, 4700.0),
             "qty: expected a number, got True"),
            (lambda e: e.order("o-1", BASE_NS, "MESZ3", "buy", "limit", 1, "working",
                               limit_price=0.0), "limit_price: must be greater than 0"),
            (lambda e: e.order("o-1", BASE_NS, "MESZ3", "buy", "stop", 1, "working",
                               stop_price=math.nan), "stop_price: must be finite"),
            (lambda e: e.order("o-1", BASE_NS, "MESZ3", "buy", "market", 1, "filled",
                               filled_qty=-1, avg_fill_price=4700.0),
             "filled_qty: must be greater than or equal to 0"),
            (lambda e: e.order("o-1", BASE_NS, "MESZ3", "buy", "market", 1, "filled",
                               filled_qty=1, avg_fill_price=1e-9),
             "avg_fill_price: must be at least 1e-08"),
            (lambda e: e.amend_execution("x-1", BASE_NS, "MESZ3", "buy", 1, 1e9),
             "price: must be at most 90,000,000"),
            (lambda e: e.instrument("MESZ3", multiplier=0), "multiplier: must be greater than 0"),
            (lambda e: e.instrument("MESZ3", tick_size=1e-9), "tick_size: must be at least 1e-08"),
            (lambda e: e.bar("MESZ3", "1m", BASE_NS, 1.0, 2.0, 1e-9, 1.5),
             "low: must be at least 1e-08"),
            (lambda e: e.bar("MESZ3", "1m", BASE_NS, 1.0, 2.0, 0.5, 1.5, volume=-1),
             "volume: must be greater than or equal to 0, got -1"),
            (lambda e: e.bar("MESZ3", "1m", BASE_NS, 1.0, 2.0, 0.5, 1.5, ask_volume=math.inf),
             "ask_volume: must be finite"),
            (lambda e: e.bar("MESZ3", "400d", BASE_NS, 1.0, 2.0, 0.5, 1.5),
             "timeframe: must be at most 366d"),
            (lambda e: e.end("2200-01-01T00:00:00Z"), "ts: must be before 2200"),
            (lambda e: e.event({"type": "execution", "ts": BASE_NS, "symbol": "MESZ3",
                                "side": "buy", "qty": 1, "price": 4700.0, "commission": 1e8}),
             "commission: must be at most 90,000,000"),
            (lambda e: e.event({"type": "bar", "symbol": "MESZ3", "timeframe": "1m",
                                "ts": "2023-12-15T14:30:00", "open": 1.0, "high": 1.0,
                                "low": 1.0, "close": 1.0}), "ts: ISO-8601 string without an offset"),
            (lambda e: e.event({"type": "bar", "symbol": "MESZ3", "timeframe": "1m",
                                "ts": BASE_NS, "open": 1.0, "high": 1.0, "low": 1.0,
                                "close": 1.0, "series": "run", "values": {"sma": math.nan}}),
             "values.sma: must be finite"),
        ],
    )
    def test_at_the_call_and_nothing_is_spooled(
        self, offline: Exporter, call: Any, message: str
    ) -> None:
        with pytest.raises((ValueError, TypeError)) as caught:
            call(offline)
        assert str(caught.value).startswith(message)
        assert offline.pending() == 0

    def test_the_run_header(self, tmp_path: Path) -> None:
        with pytest.raises(DomainError, match=r"^run.initial_capital: must be at most "
                                              r"10,000,000,000, got 20000000000.0"):
            Exporter("http://127.0.0.1:9", "key", "desk", {**RUN, "initial_capital": 2e10},
                     spool_path=tmp_path / "r.spool")

    def test_event_converts_what_it_checks(self, offline: Exporter) -> None:
        event = check_event({"type": "execution", "ts": dt.datetime(2023, 12, 15, 14, 30,
                                                                     tzinfo=UTC),
                             "qty": Decimal("2"), "price": 4700, "commission": Decimal("0.5")})
        assert event == {"type": "execution", "ts": BASE_NS, "qty": 2.0, "price": 4700,
                         "commission": 0.5}
        assert offline.event({**event, "symbol": "MESZ3", "side": "buy"}) is not None
        assert offline.pending() == 1


def _verdict(event: dict[str, Any]) -> bool:
    """Whether the SDK accepts `event`."""
    try:
        check_event(dict(event))
    except (ValueError, TypeError):
        return False
    return True


FILL = {"type": "execution", "ts": BASE_NS, "symbol": "MESZ3", "side": "buy", "qty": 1,
        "price": 4700.0}
BAR = {"type": "bar", "symbol": "MESZ3", "timeframe": "1m", "ts": BASE_NS, "open": 1.0,
       "high": 1.0, "low": 1.0, "close": 1.0}
EDGES: list[dict[str, Any]] = [
    {**FILL, "qty": 1e-8}, {**FILL, "qty": 1e-9}, {**FILL, "qty": 9e7}, {**FILL, "qty": 9e7 + 1},
    {**FILL, "price": 1e-8}, {**FILL, "price": 9.5e7}, {**FILL, "commission": 0},
    {**FILL, "commission": 9e7}, {**FILL, "commission": 9e7 + 0.5},
    {**FILL, "ts": domain.MAX_TS_NS - 1}, {**FILL, "ts": domain.MAX_TS_NS},
    {**FILL, "ts": "1970-01-01T00:00:00Z"}, {**FILL, "ts": "1969-12-31T23:59:59Z"},
    {**FILL, "ts": "2199-12-31T23:59:59.999999999Z"}, {**FILL, "ts": "2200-01-01T00:00:00Z"},
    {**BAR, "volume": 1e300}, {**BAR, "volume": -1.0}, {**BAR, "open": 9e7, "high": 9e7},
    {**BAR, "high": 9.1e7}, {**BAR, "timeframe": "366d"}, {**BAR, "timeframe": "367d"},
]


class TestAgainstTheService:
    """The SDK's verdict on edge values is the service's (backend/ingest/domain.py).

    A service from before the input domain (issue 15) fails these: it accepted e.g.
    qty 1e-09 and times from 2200 on.
    """

    def test_the_service_refuses_exactly_what_the_sdk_refuses(
        self, server: LiveServer, account: Account
    ) -> None:
        events = [{**event, "id": f"x-edge-{n}"} if event["type"] == "execution" else event
                  for n, event in enumerate(EDGES)]
        refused_here = {n for n, event in enumerate(events) if not _verdict(event)}
        assert refused_here == {1, 3, 5, 8, 10, 12, 14, 16, 18, 20}
        body = orjson.dumps({"source": "edges", "run": RUN, "events": events})
        response = httpx.post(f"{server.url}/api/ingest", content=body, timeout=30,
                              headers={**account.ingest_headers,
                                       "Content-Type": "application/json"})
        assert response.status_code == 200, response.text
        rejected = {item["index"]: item["error"] for item in response.json()["rejected"]}
        assert set(rejected) == refused_here, rejected

    def test_the_service_refuses_the_initial_capital_the_sdk_refuses(
        self, server: LiveServer, account: Account
    ) -> None:
        for capital, accepted in ((1e10, True), (1e10 + 1, False), (1e-9, False)):
            assert _capital_ok(capital) is accepted
            run = {**RUN, "key": f"capital-{capital}", "initial_capital": capital}
            response = httpx.post(f"{server.url}/api/ingest", timeout=30,
                                  json={"source": "edges", "run": run, "events": []},
                                  headers=account.ingest_headers)
            assert (response.status_code == 200) is accepted, (capital, response.text)


def _capital_ok(value: float) -> bool:
    try:
        domain.capital(value)
    except DomainError:
        return False
    return True


class TestAPoisonEventDoesNotBlock:
    """Issue 15: one event past the domain answered 500 for its batch, and the exporter,
    which retries 5xx, was stuck on it for ever. Spooled as an SDK from before the local
    checks would have spooled it, it is now dead-lettered and every later event goes in."""

    def test_the_exporter_sends_past_it(
        self, server: LiveServer, account: Account, tmp_path: Path
    ) -> None:
        rejections: list[Any] = []
        run = {**RUN, "key": "poison"}
        exporter = Exporter(server.url, account.api_key, "poison-desk", run,
                            spool_path=tmp_path / "p.spool", on_rejected=rejections.append)  # fmt: skip
        with exporter:
            exporter.execution(BASE_NS, "MESZ3", "buy", 1, 4700.0, id="before")
            # what an older SDK spooled: no local check stood in the way
            exporter._spool({"type": "execution", "id": "poison", "ts": "2262-04-12T00:00:00Z",
                             "symbol": "MESZ3", "side": "buy", "qty": 1e-9, "price": 4700.0})  # fmt: skip
            exporter.execution(BASE_NS + 60 * 10**9, "MESZ3", "sell", 1, 4702.5, id="after")
            state = exporter.flush(60, wait="derived")
            assert exporter.error is None
            assert exporter.pending() == 0
        assert [r.id for r in rejections] == ["poison"]
        assert state is not None
        assert state.state == "derived"
        rid = run_id(server, account, "poison")
        trades = httpx.get(f"{server.url}/api/runs/{rid}/trades", headers=account.headers,
                           timeout=30).json()["items"]  # fmt: skip
        assert [t["net_pnl"] for t in trades] == [2.5]
