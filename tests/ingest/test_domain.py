"""One input domain: whatever the validator accepts is stored and derived; the rest is refused
per event with its reason. Never a 5xx, never a batch-wide failure (issue 15)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.ingest import domain
from backend.ingest.timestamps import parse_ts
from tests.ingest.helpers import batch, fill

EDGE_TIMES = [
    "2262-04-12T00:00:00Z", "9999-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
    "2199-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
    "2023-03-26T02:30:00+02:00", "2023-12-15T14:30:01.003-05:00", "2023-12-15T14:30:00",
    10**17, 10**17 - 1, 2**63 - 1, 2**63, 2**64 + 5, domain.MAX_TS_NS, domain.MAX_TS_NS - 1,
    1_702_650_600, -1, 0,
]  # fmt: skip
EDGE_NUMBERS = [
    1e-9, 5e-9, 1e-8, 1.5e-8, 0.0, -0.0, -1.0, 1e-300, 123.123456789012, 0.1 + 0.2,
    89_999_999.99999999, domain.MAX_AMOUNT, 90_000_000.01, 1e12, 1e300, 2**63, 2**70, 1, 3,
]  # fmt: skip

times = st.one_of(
    st.sampled_from(EDGE_TIMES),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
numbers = st.one_of(
    st.sampled_from(EDGE_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e-10, max_value=1e9),
    st.integers(min_value=-(2**66), max_value=2**66),
)
symbols = st.one_of(
    st.sampled_from(["MESZ3", "ÉURO-€", "株式", " pad ", "x" * 64, "y" * 65, "", "\U0001f680"]),
    st.text(min_size=1, max_size=70),
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["execution", "execution", "execution", "bar", "order",
                                 "instrument", "run_end"]))  # fmt: skip
    symbol = draw(symbols)
    ident = f"e{draw(st.integers(0, 10**9))}"
    if kind == "execution":
        return {"type": kind, "id": ident, "ts": draw(times), "symbol": symbol,
                "side": draw(st.sampled_from(["buy", "sell"])), "qty": draw(numbers),
                "price": draw(numbers), "commission": draw(numbers),
                "account": draw(st.sampled_from(["", "acct-1", "ünï"]))}  # fmt: skip
    if kind == "bar":
        low = draw(numbers)
        high = draw(st.one_of(st.just(low), numbers))
        return {"type": kind, "symbol": symbol, "timeframe": draw(st.sampled_from(
                    ["1m", "1s", "366d", "367d", "999999d", "5x"])),
                "ts": draw(times), "open": low, "high": high, "low": low, "close": low,
                "volume": draw(numbers)}  # fmt: skip
    if kind == "order":
        return {"type": kind, "id": ident, "order_id": ident, "ts": draw(times),
                "symbol": symbol, "side": "buy", "order_type": "limit", "qty": draw(numbers),
                "limit_price": draw(numbers), "status": "working"}  # fmt: skip
    if kind == "instrument":
        return {"type": kind, "symbol": symbol, "multiplier": draw(numbers),
                "tick_size": draw(numbers)}  # fmt: skip
    return {"type": kind, "ts": draw(times)}


_runs = itertools.count()
TRADE_LIMIT = "is beyond the 10,000,000,000 a trade may amount to"


class TestInputDomain:
    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.lists(events(), min_size=1, max_size=8))
    def test_every_event_is_stored_and_derived_or_refused_with_a_reason(
        self, client: TestClient, alice_key: dict[str, str], sent: list[dict[str, Any]]
    ) -> None:
        run = {"key": f"domain-{next(_runs)}", "strategy": "S", "mode": "backtest",
               "initial_capital": 10_000}  # fmt: skip
        response = client.post("/api/ingest?wait=derived&timeout=20",
                               json=batch(sent, run=run), headers=alice_key)  # fmt: skip
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["accepted"] + result["duplicates"] + len(result["rejected"]) == len(sent)
        assert all(r["error"] for r in result["rejected"])
        derivation = result["derivation"]
        # Nothing accepted is left stuck: derived, or failed with the domain's reason (a
        # trade whose money is beyond what the books hold), never still pending.
        assert derivation["pending_positions"] == 0, derivation
        failed = {(f["symbol"], f["account"]) for f in derivation["failed_positions"]}
        assert all(TRADE_LIMIT in f["error"] for f in derivation["failed_positions"]), derivation

        # Every other accepted fill's position still derives after a normal fill of its own.
        refused = {r["index"] for r in result["rejected"]}
        positions = {
            (event["symbol"].strip(), event["account"])
            for index, event in enumerate(sent)
            if event["type"] == "execution" and index not in refused
        } - failed
        later = [
            fill(f"later-{n}", "2199-12-31T00:00:00Z", "buy", 1, 100.0, symbol=symbol,
                 account=account)  # fmt: skip
            for n, (symbol, account) in enumerate(sorted(positions))
        ]
        if later:
            again = client.post("/api/ingest?wait=derived&timeout=20",
                                json=batch(later, run=run), headers=alice_key)  # fmt: skip
            assert again.status_code == 200, again.text
            assert again.json()["rejected"] == []
            assert again.json()["derivation"]["state"] == "derived"
        run_id = result["run_id"]
        for path in (f"/api/runs/{run_id}", f"/api/runs/{run_id}/trades",
                     f"/api/runs/{run_id}/metrics", f"/api/runs/{run_id}/executions"):  # fmt: skip
            read = client.get(path, headers=alice_key)
            assert read.status_code == 200, (path, read.text)
        state = client.get(f"/api/runs/{run_id}", headers=alice_key).json()["derivation"]
        assert state["pending_positions"] == 0
        assert {(f["symbol"], f["account"]) for f in state["failed_positions"]} == failed


class TestDomainCases:
    """The inputs seen breaking the promise, each on its own."""

    @pytest.mark.parametrize(
        ("ts", "problem"),
        [
            ("2262-04-12T00:00:00Z", "must be before 2200-01-01T00:00:00Z"),
            ("9999-12-31T00:00:00Z", "must be before 2200-01-01T00:00:00Z"),
            (2**63 + 1, "must be before 2200-01-01T00:00:00Z"),
        ],
    )
    def test_a_time_past_the_domain_is_refused_alone(
        self, client: TestClient, alice_key: dict[str, str], ts: object, problem: str
    ) -> None:
        events = [fill("x-1", "2023-12-15T14:30:00Z", "buy", 1, 100.0),
                  fill("x-2", "2023-12-15T14:31:00Z", "sell", 1, 101.0)]  # fmt: skip
        events.insert(1, {**fill("bad", "2023-12-15T14:30:30Z", "buy", 1, 100.0), "ts": ts})
        response = client.post("/api/ingest?wait=derived", json=batch(events), headers=alice_key)
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["accepted"] == 2
        assert [(r["index"], r["id"]) for r in result["rejected"]] == [(1, "bad")]
        assert result["rejected"][0]["error"].startswith(f"ts: {problem}")
        trades = client.get(f"/api/runs/{result['run_id']}/trades", headers=alice_key).json()
        assert [t["net_pnl"] for t in trades["items"]] == [1.0]

    def test_a_quantity_below_the_counted_scale_is_refused_naming_the_smallest(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        response = client.post(
            "/api/ingest",
            json=batch([fill("tiny", "2023-12-15T14:30:00Z", "buy", 1e-9, 100.0)]),
            headers=alice_key,
        )
        assert response.status_code == 200
        assert response.json()["rejected"] == [{
            "index": 0, "id": "tiny",
            "error": "qty: must be at least 1e-08 (the smallest amount counted), got 1e-09",
        }]  # fmt: skip
        stored = client.get("/api/rejected-events", headers=alice_key).json()
        assert [r["error"] for r in stored["items"]][-1].startswith("qty: must be at least 1e-08")

    @pytest.mark.parametrize(
        ("field", "value", "error"),
        [
            ("price", 90_000_000.5, "price: must be at most 90,000,000, got 90000000.5"),
            ("commission", -0.01, "commission: must be greater than or equal to 0"),
            ("qty", 0, "qty: must be greater than 0"),
            ("price", 2**70, "price: must be at most 90,000,000, got 1180591620717411303424"),
        ],
    )
    def test_amount_limits_name_the_field_value_and_limit(
        self, client: TestClient, alice_key: dict[str, str], field: str, value: float, error: str
    ) -> None:
        event = {**fill("x", "2023-12-15T14:30:00Z", "buy", 1, 100.0), field: value}
        response = client.post("/api/ingest", json=batch([event]), headers=alice_key)
        assert response.status_code == 200
        assert response.json()["rejected"][0]["error"] == error

    def test_the_smallest_and_largest_amounts_are_stored_and_derived_exactly(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        events = [
            fill("a", "2023-12-15T14:30:00Z", "buy", 1e-8, 89_999_999.99999999, commission=1e-8),
            fill("b", "2023-12-15T14:31:00Z", "sell", 1e-8, domain.MAX_AMOUNT),
        ]
        result = client.post("/api/ingest?wait=derived", json=batch(events),
                             headers=alice_key).json()  # fmt: skip
        assert result["accepted"] == 2
        assert result["derivation"]["state"] == "derived"
        trades = client.get(f"/api/runs/{result['run_id']}/trades", headers=alice_key).json()
        # (90,000,000 - 89,999,999.99999999) x 1e-8 = 1e-16, rounded to 0; less 1e-8 commission
        assert [(t["gross_pnl"], t["net_pnl"]) for t in trades["items"]] == [(0.0, -1e-8)]


    def test_a_trade_whose_money_is_beyond_the_books_fails_its_position_with_the_reason(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        events = [
            {"type": "instrument", "symbol": "BIG", "multiplier": 1},
            fill("a", "2023-12-15T14:30:00Z", "buy", 9e7, 1e-8, symbol="BIG"),
            fill("b", "2023-12-15T14:31:00Z", "sell", 9e7, 9e7, symbol="BIG"),
            fill("c", "2023-12-15T14:30:00Z", "buy", 1, 100.0, symbol="SMALL"),
            fill("d", "2023-12-15T14:31:00Z", "sell", 1, 101.5, symbol="SMALL"),
        ]
        result = client.post("/api/ingest?wait=derived", json=batch(events),
                             headers=alice_key).json()  # fmt: skip
        derivation = result["derivation"]
        assert derivation["state"] == "failed"
        [failed] = derivation["failed_positions"]
        assert (failed["symbol"], failed["attempts"]) == ("BIG", 1)
        assert failed["error"] == (
            "DomainError: BIG trade at 2023-12-15T14:30:00Z: gross_pnl 8.1e+15 "
            f"{TRADE_LIMIT}; check the instrument's multiplier and the fills' qty and price"
        )
        run_id = result["run_id"]
        trades = client.get(f"/api/runs/{run_id}/trades", headers=alice_key).json()["items"]
        assert [(t["symbol"], t["net_pnl"]) for t in trades] == [("SMALL", 1.5)]
        for path in ("metrics", "series", "report", "calendar"):
            assert client.get(f"/api/runs/{run_id}/{path}", headers=alice_key).status_code == 200


class TestDomainConstants:
    def test_the_time_limit_is_2200_and_leaves_room_below_int64(self) -> None:
        assert parse_ts(domain.MAX_TS_TEXT.replace("2200", "2199")) < domain.MAX_TS_NS
        assert domain.MAX_TS_NS == 7_258_118_400 * 10**9
        day = 86_400 * 10**9
        assert domain.MAX_TS_NS + domain.MAX_TIMEFRAME_SECONDS * 10**9 + day < 2**63 - 1

    def test_every_amount_in_range_is_exact_on_the_1e8_grid(self) -> None:
        # round(x * 1e8) is exact while x * 1e8 < 2**53
        assert domain.MAX_AMOUNT * 1e8 < 2**53
        assert round(domain.MIN_AMOUNT * 1e8) == 1
        assert math.isclose(round(89_999_999.99999999 * 1e8), 8_999_999_999_999_999)
