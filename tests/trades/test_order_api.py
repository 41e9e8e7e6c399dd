"""A trade's orders, its explanation and a run's order analytics through the real pipeline
(SQLite and PostgreSQL), on the hand-checked history of tests/trades/order_scenario.py."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.analytics.metrics import describe
from backend.analytics.orders import ORDER_METRICS
from tests.ingest.helpers import batch, push
from tests.trades.order_scenario import events


@pytest.fixture
def pushed(client: TestClient, alice_key: dict[str, str]) -> dict[str, str]:
    push(client, alice_key, batch(events()))
    assert client.app.state.context.ingest.derivations.wait_idle()  # type: ignore[attr-defined]
    return alice_key


def _get(client: TestClient, headers: dict[str, str], path: str) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestTradeOrders:
    def test_orders_of_a_trade_with_slippage_latency_and_timelines(
        self, client: TestClient, pushed: dict[str, str]
    ) -> None:
        body = _get(client, pushed, "/api/trades/1/orders")
        assert (body["trade_id"], body["multiplier"], body["tick_size"]) == (1, 50.0, 0.25)
        entry, stop, target = body["orders"]
        assert (entry["order_id"], entry["role"], entry["status"]) == ("e1", "entry", "filled")
        # x1 1 @ 4700.00 and x2 1 @ 4700.25 against the modified limit 4700.25:
        # (-0.25 + 0) / 2 = -0.125 a unit (better), x 2 x 50 = -12.5, / 0.25 = -0.5 ticks
        assert entry["slippage_vs_order"] == {
            "reference": 4700.25, "price": -0.125, "amount": -12.5, "ticks": -0.5, "qty": 2.0
        }  # fmt: skip
        # against the 14:00 bar's close 4700.00 (the last closed at 14:01:10): +0.125 a unit
        assert entry["slippage_vs_close"] == {
            "reference": 4700.0, "price": 0.125, "amount": 12.5, "ticks": 0.5, "qty": 2.0
        }  # fmt: skip
        assert entry["close_ref_ts"] == "2023-12-15T14:00:00Z"
        assert (entry["latency_seconds"], entry["full_latency_seconds"]) == (55.0, 80.0)
        assert (entry["modifications"], entry["cancelled"], entry["avg_fill_price"]) == (
            1, False, 4700.125
        )  # fmt: skip
        assert [(s["ts"][11:19], s["kind"], s["limit_price"], s["fill_price"])
                for s in entry["timeline"]] == [
            ("14:01:10", "placed", 4700.0, None),
            ("14:01:40", "modified", 4700.25, None),
            ("14:02:05", "fill", None, 4700.0),
            ("14:02:05", "partially_filled", 4700.25, None),
            ("14:02:30", "fill", None, 4700.25),
            ("14:02:30", "filled", 4700.25, None),
        ]  # fmt: skip
        assert entry["timeline"][1]["changes"] == ["limit_price"]
        # the stop sold 2 @ 4701.75 against its stop 4702.00: 0.25 worse, 25.0, 1 tick;
        # against the 14:01 close 4700.50 (placed 14:02:30) 1.25 better: -125.0, -5 ticks
        assert (stop["order_id"], stop["role"], stop["modifications"]) == ("s1", "exit", 2)
        assert stop["slippage_vs_order"] == {
            "reference": 4702.0, "price": 0.25, "amount": 25.0, "ticks": 1.0, "qty": 2.0
        }  # fmt: skip
        assert stop["slippage_vs_close"]["amount"] == -125.0
        assert stop["slippage_vs_close"]["ticks"] == -5.0
        assert stop["latency_seconds"] == 280.0
        assert (target["order_id"], target["role"], target["cancelled"]) == ("t1", "linked", True)
        assert (target["filled_qty"], target["slippage_vs_order"], target["latency_seconds"]) == (
            0.0, None, None
        )  # fmt: skip
        assert [s["kind"] for s in target["timeline"]] == ["placed", "cancelled"]

    def test_stop_moves_and_whether_moving_helped(
        self, client: TestClient, pushed: dict[str, str]
    ) -> None:
        stop = _get(client, pushed, "/api/trades/1/orders")["stop"]
        assert (stop["first_stop"], stop["first_order_id"], stop["last_stop"]) == (
            4699.0, "s1", 4702.0
        )  # fmt: skip
        assert [(m["ts"][11:19], m["from_price"], m["to_price"], m["tighter"])
                for m in stop["moves"]] == [
            ("14:03:30", 4699.0, 4697.0, False), ("14:06:00", 4697.0, 4702.0, True)
        ]  # fmt: skip
        # MAE 2.125 (the 14:04 low 4698.00) reaches the first stop 1.125 below the entry
        # 4700.125: kept, it would have sold 2 @ 4699: (4699 - 4700.125) x 2 x 50 = -112.5;
        # the trade made 162.5 gross, so moving the stop earned 275.0
        assert (stop["verdict"], stop["first_stop_reached"]) == ("helped", True)
        assert (stop["counterfactual_gross_pnl"], stop["effect"]) == (-112.5, 275.0)

    def test_run_order_analytics_and_groups(
        self, client: TestClient, pushed: dict[str, str]
    ) -> None:
        body = _get(client, pushed, "/api/runs/1/order-analytics?by=order_type")
        assert body["metrics"] == {
            "order_count": 3, "filled_order_count": 2,
            "cancel_rate": 1 / 3, "modify_rate": 2 / 3, "modifications_per_order": 1.0,
            "fill_latency_mean": 167.5, "fill_latency_median": 167.5,  # (55 + 280) / 2
            "slippage_order_amount": 12.5,  # -12.5 + 25.0
            "slippage_order_ticks": 0.25,  # (-0.5 x 2 + 1 x 2) / 4
            "slippage_close_amount": -112.5,  # 12.5 - 125.0
            "slippage_close_ticks": -2.25,  # (0.5 x 2 - 5 x 2) / 4
        }  # fmt: skip
        assert body["stops"] == {
            "stop_moved_trades": 1, "stop_move_judged_trades": 1, "stop_move_effect": 275.0,
            "helped": 1, "hurt": 0, "no_effect": 0, "unknown": 0,
        }  # fmt: skip
        groups = {g["key"]: g["metrics"] for g in body["groups"]}
        assert list(groups) == ["limit", "stop"]
        assert (groups["limit"]["order_count"], groups["limit"]["cancel_rate"]) == (2, 0.5)
        assert groups["limit"]["slippage_order_amount"] == -12.5
        assert groups["stop"]["slippage_order_ticks"] == 1.0
        hours = _get(client, pushed, "/api/runs/1/order-analytics?by=hour")
        assert [(g["key"], g["metrics"]["order_count"]) for g in hours["groups"]] == [("14", 3)]
        sides = _get(client, pushed, "/api/runs/1/order-analytics?by=side")
        assert [(g["key"], g["metrics"]["order_count"]) for g in sides["groups"]] == [
            ("buy", 1), ("sell", 2)
        ]  # fmt: skip

    def test_bad_dimension_is_a_422_naming_it(
        self, client: TestClient, pushed: dict[str, str]
    ) -> None:
        response = client.get("/api/runs/1/order-analytics?by=weekday", headers=pushed)
        assert response.status_code == 422
        assert response.json()["detail"] == (
            "query.by: Input should be 'order_type', 'side', 'symbol' or 'hour'"
        )

    def test_order_metric_definitions(self, client: TestClient, pushed: dict[str, str]) -> None:
        served = _get(client, pushed, "/api/metrics/definitions?scope=orders")
        rows = {d["name"]: d for d in served}
        assert list(rows) == list(ORDER_METRICS)
        assert rows["slippage_order_ticks"]["unit"] == "ticks"
        assert rows["slippage_close_amount"]["label"] == "Slippage vs last close"
        assert rows["stop_move_effect"]["unit"] == "currency"
        # the default stays the run metrics alone
        trades = _get(client, pushed, "/api/metrics/definitions")
        assert [d["name"] for d in trades] == [d["name"] for d in describe()]


class TestExplain:
    def test_scale_in_and_close(self, client: TestClient, pushed: dict[str, str]) -> None:
        body = _get(client, pushed, "/api/trades/1/explain")
        assert [(s["fill_id"], s["action"], s["position_before"], s["position_after"])
                for s in body["steps"]] == [
            ("x1", "open", 0.0, 1.0), ("x2", "scale_in", 1.0, 2.0), ("x3", "close", 2.0, 0.0)
        ]  # fmt: skip
        assert body["consistent"] is True
        assert body["result"] == {
            "qty": 2.0, "entry_price": 4700.125, "exit_price": 4701.75, "gross_pnl": 162.5,
            "commission": 5.0, "net_pnl": 157.5, "exit_ts": "2023-12-15T14:07:10Z",
        }  # fmt: skip
        # bars wholly inside 14:02:05-14:07:10: 14:03 to 14:06; the high 4706 of 14:06 and
        # the low 4698 of 14:04 make MFE 5.875 and MAE 2.125 (as stored on the trade)
        assert body["excursions"] == {
            "timeframe": "1m", "bar_count": 4,
            "first_bar_ts": "2023-12-15T14:03:00Z", "last_bar_ts": "2023-12-15T14:06:00Z",
            "high_bar_ts": "2023-12-15T14:06:00Z", "high": 4706.0,
            "low_bar_ts": "2023-12-15T14:04:00Z", "low": 4698.0,
            "mfe": 5.875, "mae": 2.125, "mfe_from": "bar", "mae_from": "bar",
        }  # fmt: skip
        trade = _get(client, pushed, "/api/trades/1")
        assert (trade["mfe"], trade["mae"]) == (5.875, 2.125)
        assert body["initial_stop"] == {
            "source": "stop_order", "order_id": "s1", "placed_ts": "2023-12-15T14:02:30Z",
            "stop_price": 4699.0, "linked_by": "parent_id", "default_risk": None,
            "initial_risk": 112.5, "r_multiple": 1.4,
        }  # fmt: skip

    def test_reversal_splits_the_fill_and_its_commission(
        self, client: TestClient, pushed: dict[str, str]
    ) -> None:
        first = _get(client, pushed, "/api/trades/4/explain")
        assert [(s["fill_id"], s["action"], s["position_after"]) for s in first["steps"]] == [
            ("m1", "open", 1.0), ("m2", "scale_in", 3.0), ("m3", "partial_exit", 2.0),
            ("m4", "reverse", -1.0),
        ]  # fmt: skip
        crossing = first["steps"][-1]
        # 1.00 x 2 / 3 = 0.666666666... -> 0.66666667 (half-even to 1e-8); the rest to trade 7
        assert crossing["part"] == {"trade_id": 4, "role": "exit", "qty": 2.0,
                                    "commission": 0.66666667, "commission_units": 66666667}  # fmt: skip
        assert crossing["other"] == {"trade_id": 7, "role": "entry", "qty": 1.0,
                                     "commission": 0.33333333, "commission_units": 33333333}  # fmt: skip
        assert crossing["part"]["commission_units"] + crossing["other"]["commission_units"] == (
            crossing["commission_units"]
        ) == 100_000_000  # fmt: skip
        assert crossing["commission_split"] == "pro_rata"
        assert first["result"]["commission"] == 2.53666667  # 0.5 + 1.0 + 0.37 + 0.66666667
        assert first["consistent"] is True
        assert (first["excursions"], first["initial_stop"]["source"]) == (None, "none")
        second = _get(client, pushed, "/api/trades/7/explain")
        assert [(s["fill_id"], s["action"], s["position_before"], s["position_after"])
                for s in second["steps"]] == [
            ("m4", "opened_by_reversal", 2.0, -1.0), ("m5", "close", -1.0, 0.0)
        ]  # fmt: skip
        assert second["steps"][0]["part"]["commission_units"] == 33333333
        assert second["steps"][0]["other"]["trade_id"] == 4
        assert second["result"] == {
            "qty": 1.0, "entry_price": 102.0, "exit_price": 99.0, "gross_pnl": 15.0,
            "commission": 0.66333333, "net_pnl": 14.33666667,
            "exit_ts": "2023-12-15T14:14:00Z",
        }  # fmt: skip
        assert second["consistent"] is True


class TestOwnership:
    @pytest.mark.parametrize(
        "path",
        ["/api/trades/1/orders", "/api/trades/1/explain", "/api/runs/1/order-analytics"],
    )
    def test_only_the_owner_sees_them(
        self, client: TestClient, pushed: dict[str, str], bob: dict[str, str], path: str
    ) -> None:
        response = client.get(path, headers=bob)
        assert response.status_code == 404, response.text
        assert "not found" in response.json()["detail"]
        assert client.get(path).status_code == 401

    def test_an_unknown_trade_is_a_404(self, client: TestClient, pushed: dict[str, str]) -> None:
        for path in ("/api/trades/999/orders", "/api/trades/999/explain"):
            response = client.get(path, headers=pushed)
            assert response.status_code == 404
            assert response.json()["detail"] == "trade 999 not found"
