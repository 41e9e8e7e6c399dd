"""Order analytics on hand-checked order histories (backend/trades/order_analytics.py)."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from backend.analytics.orders import ORDER_METRICS, describe_orders, order_groups, order_metrics
from backend.trades.order_analytics import (
    Closes,
    FillRecord,
    Instrument,
    OrderEventRecord,
    OrderRecord,
    analyse_order,
)

S = 1_000_000_000
MES = Instrument(multiplier=5, tick_size=0.25)
# 1-minute bars at 0, 60, 120 s closing 100.00, 100.50, 101.25
CLOSES = Closes(
    np.array([0, 60 * S, 120 * S], dtype=np.int64), np.array([100.0, 100.5, 101.25]), 60
)


def _event(ts: int, status: str, qty: float = 2, limit: float | None = None,
           stop: float | None = None, seq: int = 0) -> OrderEventRecord:  # fmt: skip
    return OrderEventRecord(ts * S, seq or ts, status, qty, limit, stop)


def _order(order_type: str, side: str, *events: OrderEventRecord) -> OrderRecord:
    return OrderRecord("o", "MES", side, order_type, None, tuple(events))


def _fill(ts: int, qty: float, price: float, seq: int = 0) -> FillRecord:
    return FillRecord(seq or ts, f"x{ts}", ts * S, qty, price)


class TestSlippage:
    def test_limit_buy_filled_in_two_parts_below_its_limit(self) -> None:
        order = _order("limit", "buy", _event(70, "working", limit=100.5),
                       _event(90, "partially_filled"), _event(95, "filled"))  # fmt: skip
        a = analyse_order(order, [_fill(90, 1, 100.25), _fill(95, 1, 100.5)], MES, CLOSES)
        # (100.25 - 100.5) x 1 + 0 = -0.25 over 2: -0.125 a unit, -0.25 x 5 = -1.25, -0.5 ticks
        assert a.vs_order is not None
        assert (a.vs_order.reference, a.vs_order.price, a.vs_order.amount, a.vs_order.ticks) == (
            Decimal("100.5"), Decimal("-0.125"), Decimal("-1.25"), Decimal("-0.5")
        )  # fmt: skip
        # placed at 70 s: the last closed bar is the one of 0 s (closes 100.00)
        assert a.vs_close is not None
        assert (a.vs_close.reference, a.vs_close.price, a.vs_close.amount) == (
            Decimal("100"), Decimal("0.375"), Decimal("3.75")
        )  # fmt: skip
        assert a.close_ref_ts == 0
        assert (a.filled_qty, a.avg_fill_price) == (Decimal("2"), Decimal("100.375"))
        assert (a.latency_seconds, a.full_latency_seconds) == (20.0, 25.0)
        assert (a.modifications, a.cancelled, a.status, a.finished_ts) == (
            0,
            False,
            "filled",
            95 * S,
        )

    def test_stop_sell_slips_below_its_stop_price(self) -> None:
        order = _order("stop", "sell", _event(60, "working", stop=99.0), _event(130, "filled"))
        a = analyse_order(order, [_fill(130, 2, 98.75)], MES, CLOSES)
        # a sell: stop - fill = 0.25 worse a unit, x 2 x 5 = 2.5, 1 tick
        assert a.vs_order is not None
        assert (a.vs_order.price, a.vs_order.amount, a.vs_order.ticks) == (
            Decimal("0.25"), Decimal("2.5"), Decimal("1")
        )  # fmt: skip
        # placed at exactly 60 s: the bar of 0 s has just closed (0 + 60 <= 60)
        assert a.vs_close is not None
        assert (a.vs_close.reference, a.vs_close.amount, a.vs_close.ticks) == (
            Decimal("100"), Decimal("12.5"), Decimal("5")
        )  # fmt: skip

    def test_a_modified_limit_is_judged_by_the_price_working_at_each_fill(self) -> None:
        order = _order("limit", "buy", _event(10, "working", limit=100.0),
                       _event(20, "partially_filled", qty=3),  # qty 2 -> 3: a modification
                       _event(30, "working", qty=3, limit=100.5),  # limit: another
                       _event(40, "filled", qty=3))  # fmt: skip
        fills = [_fill(20, 1, 100.0), _fill(40, 2, 100.5)]
        a = analyse_order(order, fills, Instrument(multiplier=1), None)
        assert a.modifications == 2
        assert [(s.kind, s.changes) for s in a.timeline] == [
            ("placed", ()), ("fill", ()), ("partially_filled", ("qty",)),
            ("modified", ("limit_price",)), ("fill", ()), ("filled", ()),
        ]  # fmt: skip
        assert a.vs_order is not None
        # each fill at its own working limit: no slippage; reference qty-weighted 100.33333333
        assert (a.vs_order.price, a.vs_order.amount, a.vs_order.reference) == (
            Decimal("0"), Decimal("0"), Decimal("100.33333333")
        )  # fmt: skip
        assert a.vs_order.ticks is None  # no tick size
        assert (a.vs_close, a.close_ref_ts) == (None, None)  # no bars

    def test_cancelled_after_a_partial_fill(self) -> None:
        order = _order("limit", "sell", _event(10, "working", limit=101.0),
                       _event(15, "working", limit=101.25), _event(20, "partially_filled"),
                       _event(50, "cancelled"), _event(55, "working", limit=102.0))  # fmt: skip
        a = analyse_order(order, [_fill(20, 1, 101.5)], MES, CLOSES)
        assert (a.cancelled, a.status, a.finished_ts) == (True, "working", 50 * S)
        assert a.modifications == 1  # the change after it finished does not count
        assert a.vs_order is not None
        assert (a.vs_order.price, a.vs_order.amount, a.vs_order.ticks) == (
            Decimal("-0.25"), Decimal("-1.25"), Decimal("-1")
        )  # fmt: skip
        assert [s.kind for s in a.timeline] == [
            "placed", "modified", "fill", "partially_filled", "cancelled", "status"
        ]  # fmt: skip

    def test_market_and_unfilled_orders(self) -> None:
        market = _order("market", "buy", _event(125, "filled"))
        a = analyse_order(market, [_fill(125, 1, 101.5)], MES, CLOSES)
        assert a.vs_order is None
        assert a.vs_close is not None
        assert (a.vs_close.reference, a.vs_close.price, a.vs_close.ticks) == (
            Decimal("100.5"), Decimal("1"), Decimal("4")
        )  # fmt: skip
        assert a.latency_seconds == 0.0
        idle = analyse_order(_order("limit", "buy", _event(10, "working", limit=99.0)), [], MES,
                             CLOSES)  # fmt: skip
        assert (idle.vs_order, idle.vs_close, idle.filled_qty, idle.avg_fill_price) == (
            None, None, Decimal(0), None
        )  # fmt: skip
        assert idle.latency_seconds is None

    def test_an_order_needs_an_event(self) -> None:
        with pytest.raises(ValueError, match="order o: needs at least one event, got none"):
            analyse_order(OrderRecord("o", "MES", "buy", "limit", None, ()), [], MES, None)


class TestAggregates:
    def _orders(self) -> list[object]:
        limit = analyse_order(
            _order("limit", "buy", _event(70, "working", limit=100.5), _event(95, "filled")),
            [_fill(90, 1, 100.25), _fill(95, 1, 100.5)], MES, CLOSES,
        )  # fmt: skip
        stop = analyse_order(
            _order("stop", "sell", _event(60, "working", stop=99.0),
                   _event(100, "working", stop=99.5), _event(130, "filled")),
            [_fill(130, 2, 98.75)], MES, CLOSES,
        )  # fmt: skip
        cancelled = analyse_order(
            _order("limit", "sell", _event(60, "working", limit=105.0), _event(200, "cancelled")),
            [], MES, CLOSES,
        )  # fmt: skip
        return [limit, stop, cancelled]

    def test_run_metrics(self) -> None:
        orders = self._orders()
        values = order_metrics(orders, lambda _symbol: 0.25)  # type: ignore[arg-type]
        assert values == {
            "order_count": 3, "filled_order_count": 2, "cancel_rate": 1 / 3,
            "modify_rate": 1 / 3, "modifications_per_order": 1 / 3,
            "fill_latency_mean": 45.0,  # (20 + 70) / 2
            "fill_latency_median": 45.0,
            # limit: -1.25; stop: 99.5 - 98.75 = 0.75 x 2 x 5 = 7.5
            "slippage_order_amount": 6.25,
            "slippage_order_ticks": 1.25,  # (-0.5 x 2 + 3 x 2) / 4
            # limit vs 100.00: 3.75; stop vs 100.00: 1.25 x 2 x 5 = 12.5
            "slippage_close_amount": 16.25,
            "slippage_close_ticks": 3.25,  # (1.5 x 2 + 5 x 2) / 4
        }  # fmt: skip
        assert set(values) | {"stop_moved_trades", "stop_move_effect"} == set(ORDER_METRICS)

    def test_groups(self) -> None:
        orders = self._orders()
        by_type = order_groups(orders, "order_type", ZoneInfo("UTC"))  # type: ignore[arg-type]
        assert {k: len(v) for k, v in by_type.items()} == {"limit": 2, "stop": 1}
        # placed at 00:01 UTC: 19:01 the evening before in New York
        by_hour = order_groups(orders, "hour", ZoneInfo("America/New_York"))  # type: ignore[arg-type]
        assert list(by_hour) == ["19"]
        with pytest.raises(ValueError, match="by: must be one of order_type, side, symbol, hour"):
            order_groups(orders, "weekday", ZoneInfo("UTC"))  # type: ignore[arg-type]

    def test_definitions(self) -> None:
        rows = {row["name"]: row for row in describe_orders()}
        assert rows["cancel_rate"] == {
            "name": "cancel_rate", "label": "Cancelled", "unit": "fraction",
            "formula": "cancelled orders / orders",
            "description": "Share of orders cancelled (after a partial fill too).",
            "annualised": False,
        }  # fmt: skip
        assert {row["unit"] for row in rows.values()} == {
            "count", "fraction", "ratio", "seconds", "currency", "ticks"
        }  # fmt: skip
