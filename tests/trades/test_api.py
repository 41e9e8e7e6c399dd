"""Trades through the real pipeline: ingest, derive, read, annotate."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.trades.reconstruct import Fill, reconstruct
from tests.ingest.helpers import RUN, batch, fill, push

T = "2023-12-15T14:{:02d}:{:02d}Z"


def _ts(minute: int, second: int = 0) -> str:
    return T.format(minute, second)


def _push(
    client: TestClient, headers: dict[str, str], events: list[dict[str, Any]], **kw: Any
) -> dict[str, Any]:
    result = push(client, headers, batch(events, **kw))
    assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
    return result


def _trades(
    client: TestClient, headers: dict[str, str], query: str = "", run_id: int = 1
) -> list[dict[str, Any]]:
    response = client.get(f"/api/runs/{run_id}/trades{query}", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _bar(minute: int, o: float, h: float, lo: float, c: float) -> dict[str, Any]:
    return {"type": "bar", "symbol": "MESZ3", "timeframe": "1m", "ts": _ts(minute), "open": o,
            "high": h, "low": lo, "close": c}  # fmt: skip


class TestTrades:
    def test_contract_fields_of_a_closed_and_an_open_trade(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        events = [
            {"type": "instrument", "symbol": "MESZ3", "multiplier": 5},
            *[_bar(m, 100 + m, 101.5 + m, 99 + m, 100.5 + m) for m in range(0, 12)],
            fill("x1", _ts(1, 30), "buy", 2, 101.25, commission=0.74),
            fill("x2", _ts(5, 30), "sell", 2, 105.75, commission=0.74),
            fill("x3", _ts(8, 0), "sell", 1, 108.0, commission=0.37),
        ]
        _push(client, alice_key, events)
        closed, still_open = _trades(client, alice_key)
        assert closed == closed | {
            "id": 1, "symbol": "MESZ3", "direction": "long", "qty": 2.0, "max_position": 2.0,
            "entry_ts": "2023-12-15T14:01:30Z", "exit_ts": "2023-12-15T14:05:30Z", "hold_seconds": 240.0,
            "entry_price": 101.25, "exit_price": 105.75,
            "gross_pnl": 45.0,  # (105.75 - 101.25) * 2 * 5
            "commission": 1.48, "net_pnl": 43.52, "open": False, "unrealised_pnl": None,
        }  # fmt: skip
        # bars wholly inside 14:01:30-14:05:30 are 14:02, 14:03, 14:04: highs up to 105.5, lows from 101
        assert (closed["mfe"], closed["mae"]) == (
            4.5,
            0.25,
        )  # max(105.5, exit 105.75) - 101.25; 101.25 - 101
        assert (closed["mfe_amount"], closed["mae_amount"]) == (45.0, 2.5)
        assert closed["exit_efficiency"] == 1.0
        assert closed["r_multiple"] is None
        assert closed["initial_risk"] is None
        assert still_open | {"direction": "short", "open": True, "exit_ts": None, "entry_price": 108.0,
                             "mark_price": 111.5, "unrealised_pnl": -17.5} == still_open  # (108 - 111.5) * 1 * 5  # fmt: skip

    def test_r_multiple_from_the_protective_stop(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        _push(client, alice_key, [
            {"type": "instrument", "symbol": "ES", "multiplier": 50},
            {"type": "order", "id": "e:new", "order_id": "e", "ts": _ts(0), "symbol": "ES", "side": "buy",
             "order_type": "market", "qty": 1, "status": "filled"},
            fill("x1", _ts(0, 1), "buy", 1, 4700.0, symbol="ES", order_id="e"),
            {"type": "order", "id": "s:new", "order_id": "s", "ts": _ts(0, 1), "symbol": "ES", "side": "sell",
             "order_type": "stop", "qty": 1, "stop_price": 4690.0, "status": "working", "parent_id": "e"},
            {"type": "order", "id": "s:moved", "order_id": "s", "ts": _ts(3), "symbol": "ES", "side": "sell",
             "order_type": "stop", "qty": 1, "stop_price": 4699.0, "status": "working", "parent_id": "e"},
            fill("x2", _ts(5), "sell", 1, 4725.0, symbol="ES", commission=2.5),
        ])  # fmt: skip
        (trade,) = _trades(client, alice_key)
        # risk = (4700 - 4690) * 1 * 50 = 500 (the first stop, not the trailed one); R = 1247.5 / 500
        assert (trade["initial_stop"], trade["initial_risk"], trade["net_pnl"]) == (
            4690.0,
            500.0,
            1247.5,
        )
        assert trade["r_multiple"] == 2.495

    def test_late_amended_and_busted_fills_rederive(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        _push(client, alice_key, [fill("a", _ts(1), "buy", 1, 100), fill("b", _ts(3), "sell", 1, 102),
                                  fill("c", _ts(5), "buy", 1, 101), fill("d", _ts(7), "sell", 1, 104)])  # fmt: skip
        assert [(t["id"], t["net_pnl"]) for t in _trades(client, alice_key)] == [(1, 2.0), (3, 3.0)]
        # a late fill inside the first trade makes it a scale-in
        _push(client, alice_key, [fill("late", _ts(2), "buy", 1, 98)])
        # never flat again: one open trade holding a, late and c (3 entered)
        assert [(t["id"], t["qty"], t["open"]) for t in _trades(client, alice_key)] == [
            (1, 3.0, True)
        ]
        _push(client, alice_key, [{"type": "execution", "op": "remove", "id": "late"}])
        assert [(t["id"], t["net_pnl"]) for t in _trades(client, alice_key)] == [(1, 2.0), (3, 3.0)]
        _push(client, alice_key, [fill("d", _ts(7), "sell", 1, 99.5, op="amend")])
        assert [(t["id"], t["net_pnl"]) for t in _trades(client, alice_key)] == [
            (1, 2.0),
            (3, -1.5),
        ]

    def test_a_later_fill_resumes_a_trade_opened_by_a_reversal(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        _push(
            client, alice_key, [fill("a", _ts(1), "sell", 1, 100), fill("b", _ts(2), "buy", 4, 99)]
        )
        assert [
            (t["id"], t["direction"], t["qty"], t["open"]) for t in _trades(client, alice_key)
        ] == [(1, "short", 1.0, False), (2, "long", 3.0, True)]
        # the rebuild starts inside the long trade, seeded with the reversal's opening part
        _push(
            client, alice_key, [fill("c", _ts(3), "buy", 1, 98), fill("d", _ts(4), "sell", 4, 100)]
        )
        assert [
            (t["id"], t["direction"], t["qty"], t["open"], t["net_pnl"])
            for t in _trades(client, alice_key)
        ] == [
            (1, "short", 1.0, False, 1.0),
            (2, "long", 4.0, False, 5.0),  # (100 - 98.75) * 4
        ]

    def test_notes_and_tags_survive_rebuilds(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        _push(
            client, alice_key, [fill("a", _ts(1), "buy", 1, 100), fill("b", _ts(3), "sell", 1, 102)]
        )
        (trade,) = _trades(client, alice_key)
        patch = {"notes": "faded the open", "tags": ["A+", "fade", "fade", " "], "setup": "ORB"}
        response = client.patch(f"/api/trades/{trade['id']}", json=patch, headers=alice)
        assert response.status_code == 200, response.text
        assert (response.json()["tags"], response.json()["notes"]) == (
            ["A+", "fade"],
            "faded the open",
        )
        assert (
            client.patch(f"/api/trades/{trade['id']}", json=patch, headers=alice_key).status_code
            == 403
        )
        _push(client, alice_key, [fill("b", _ts(3), "sell", 1, 103, op="amend")])
        (rebuilt,) = _trades(client, alice_key)
        assert (
            rebuilt["id"],
            rebuilt["net_pnl"],
            rebuilt["notes"],
            rebuilt["tags"],
            rebuilt["setup"],
        ) == (trade["id"], 3.0, "faded the open", ["A+", "fade"], "ORB")

    def test_accounts_and_symbols_are_separate_positions(
        self, client: TestClient, alice_key: dict[str, str]
    ) -> None:
        _push(client, alice_key, [
            fill("a1", _ts(1), "buy", 1, 100), fill("b1", _ts(1, 5), "buy", 1, 200, account="B"),
            fill("c1", _ts(1, 6), "sell", 2, 50, symbol="NQ"), fill("a2", _ts(2), "sell", 1, 101),
            fill("b2", _ts(3), "sell", 1, 198, account="B"), fill("c2", _ts(4), "buy", 2, 49, symbol="NQ"),
        ])  # fmt: skip
        rows = {
            (t["account"], t["symbol"]): (t["direction"], t["net_pnl"])
            for t in _trades(client, alice_key)
        }
        assert rows == {
            ("", "MESZ3"): ("long", 1.0),
            ("B", "MESZ3"): ("long", -2.0),
            ("", "NQ"): ("short", 2.0),
        }

    def test_filters_sort_and_pages(self, client: TestClient, alice_key: dict[str, str]) -> None:
        events = []
        for i in range(10):
            side, back = ("buy", "sell") if i % 2 == 0 else ("sell", "buy")
            events += [
                fill(f"o{i}", _ts(i, 0), side, 1, 100),
                fill(f"c{i}", _ts(i, 30), back, 1, 100 + (i - 4)),
            ]
        _push(client, alice_key, events)
        # longs (even i) win when i > 4, shorts (odd i) when i < 4; i = 4 breaks even
        wins = _trades(client, alice_key, "?outcome=win")
        assert sorted((t["direction"], t["net_pnl"]) for t in wins) == [
            ("long", 2.0),
            ("long", 4.0),
            ("short", 1.0),
            ("short", 3.0),
        ]
        assert [t["net_pnl"] for t in _trades(client, alice_key, "?outcome=breakeven")] == [0.0]
        shorts = _trades(client, alice_key, "?direction=short&sort=-net_pnl")
        assert [t["net_pnl"] for t in shorts] == sorted(
            (t["net_pnl"] for t in shorts), reverse=True
        )
        seen, cursor = [], ""
        while True:
            page = client.get(
                f"/api/runs/1/trades?sort=-net_pnl&limit=3{cursor}", headers=alice_key
            ).json()
            seen += [t["id"] for t in page["items"]]
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
        every = _trades(client, alice_key, "?sort=-net_pnl&limit=100")
        assert seen == [t["id"] for t in every]
        assert len(seen) == 10
        window = _trades(client, alice_key, f"?start={_ts(2)}&end={_ts(4)}")
        assert [t["entry_ts"] for t in window] == [_ts(2), _ts(3)]
        assert client.get("/api/runs/1/trades?sort=bogus", headers=alice_key).status_code == 422

    def test_detail_and_isolation(
        self, client: TestClient, alice_key: dict[str, str], bob: dict[str, str]
    ) -> None:
        _push(client, alice_key, [
            *[_bar(m, 100, 101, 99, 100) for m in range(0, 60)],
            {"type": "order", "id": "o:f", "order_id": "o", "ts": _ts(1), "symbol": "MESZ3", "side": "buy",
             "order_type": "limit", "qty": 1, "limit_price": 100, "status": "filled"},
            fill("a", _ts(1), "buy", 1, 100, order_id="o"), fill("b", _ts(3), "sell", 1, 101),
        ])  # fmt: skip
        detail = client.get("/api/trades/1", headers=alice_key).json()
        assert [(f["id"], f["role"], f["qty"]) for f in detail["fills"]] == [
            ("a", "entry", 1.0),
            ("b", "exit", 1.0),
        ]
        assert [o["order_id"] for o in detail["orders"]] == ["o"]
        # the trade's life padded by 30 bars each side, within the stored 14:00-14:59
        assert detail["bars"]["timeframe"] == "1m"
        assert (detail["bars"]["ts"][0], detail["bars"]["ts"][-1], len(detail["bars"]["ts"])) == (
            1702648800000000000,
            1702648800000000000 + 33 * 60 * 10**9,
            34,
        )
        assert client.get("/api/trades/1", headers=bob).status_code == 404
        assert client.patch("/api/trades/1", json={"notes": "x"}, headers=bob).status_code == 404
        assert client.get("/api/runs/1/trades", headers=bob).status_code == 404
        assert client.get("/api/trades", headers=bob).json()["items"] == []
        assert [t["id"] for t in client.get("/api/trades", headers=alice_key).json()["items"]] == [
            1
        ]


fills_strategy = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 4), st.integers(9_900, 10_100)),
    min_size=1, max_size=30,
)  # fmt: skip


class TestIncrementalEqualsFull:
    @settings(
        max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(fills_strategy, st.randoms(use_true_random=False), st.integers(1, 5))
    def test_random_batch_splits_and_arrival_orders(
        self, client: TestClient, alice_key: dict[str, str], rebuild_path: str,
        rows: list[tuple[str, int, int]], rng: random.Random, parts: int,
    ) -> None:  # fmt: skip
        run, source = {**RUN, "key": "r"}, uuid.uuid4().hex  # fill ids are scoped by source
        events = [fill(f"f{i}", 1702650600000000000 + i * 10**9, side, qty, price / 4)  # type: ignore[arg-type]
                  for i, (side, qty, price) in enumerate(rows)]  # fmt: skip
        cuts = sorted(rng.sample(range(1, len(events)), min(parts - 1, len(events) - 1)))
        batches = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
        rng.shuffle(batches)  # later batches carry earlier fills: out-of-order arrival
        for part in batches:
            run_id = _push(client, alice_key, part, run=run, source=source)["run_id"]
        seqs = {
            f["id"]: f["seq"]
            for f in client.get(
                f"/api/runs/{run_id}/executions?limit=100", headers=alice_key
            ).json()["items"]
        }
        expected = reconstruct(
            [Fill(seqs[e["id"]], e["ts"], e["side"], e["qty"], e["price"]) for e in events]
        )
        got = _trades(client, alice_key, "?limit=100", run_id=run_id)
        assert [
            (t["id"], t["direction"], t["qty"], t["open"], Decimal(str(t["gross_pnl"])))
            for t in got
        ] == [(t.id, t.direction, float(t.qty), t.is_open, t.gross_pnl) for t in expected]


class TestInstrumentSettings:
    def test_default_risk_and_multiplier_changes_rederive_trades(
        self, client: TestClient, alice: dict[str, str], alice_key: dict[str, str]
    ) -> None:
        _push(
            client, alice_key, [fill("a", _ts(1), "buy", 2, 100), fill("b", _ts(3), "sell", 2, 103)]
        )
        (trade,) = _trades(client, alice_key)
        assert (trade["net_pnl"], trade["r_multiple"], trade["multiplier"]) == (6.0, None, 1.0)
        change = {"multiplier": 5, "default_risk": 1.5}
        # Without confirming, a change that re-prices trades says what it would touch, and waits
        refused = client.patch("/api/instruments/MESZ3", json=change, headers=alice)
        assert refused.status_code == 409, refused.text
        assert refused.json()["affected"] == {"runs": 1, "trades": 1}
        assert refused.json()["changes"] == {
            "multiplier": {"from": 1.0, "to": 5.0}, "default_risk": {"from": None, "to": 1.5}
        }
        assert refused.json()["detail"].startswith(
            "MESZ3: multiplier 1 → 5, default risk none → 1.5 re-prices 1 trade in 1 run"
        )
        assert client.get("/api/instruments", headers=alice).json() == []
        response = client.patch(
            "/api/instruments/MESZ3?confirm=true", json=change, headers=alice
        )
        assert response.status_code == 200, response.text
        assert (response.json()["multiplier"], response.json()["default_risk"]) == (5.0, 1.5)
        assert (response.json()["run_count"], response.json()["trade_count"]) == (1, 1)
        assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
        (trade,) = _trades(client, alice_key)
        # 3 points x 2 x 5 = 30; risk 1.5 x 2 x 5 = 15; R = 2
        assert (trade["net_pnl"], trade["initial_risk"], trade["r_multiple"]) == (30.0, 15.0, 2.0)
        assert trade["multiplier"] == 5.0
        # the same values again change nothing, so there is nothing to confirm
        again = client.patch("/api/instruments/MESZ3", json=change, headers=alice)
        assert again.status_code == 200, again.text
        assert (
            client.patch(
                "/api/instruments/MESZ3", json={"default_risk": -1}, headers=alice
            ).status_code
            == 422
        )
        assert (
            client.patch(
                "/api/instruments/MESZ3", json={"multiplier": 5}, headers=alice_key
            ).status_code
            == 403
        )
