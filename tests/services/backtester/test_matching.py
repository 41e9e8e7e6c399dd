"""The matching engine against hand-made 1-second bars: every order type, gaps, ties, volume, expiry."""

from __future__ import annotations

import pytest

from services.backtester.matching import FillRules
from services.backtester.orders import OrderRequest, OrderType, Side, TimeInForce
from tests.services.backtester.helpers import T0, Book, at

BUY, SELL = Side.BUY, Side.SELL
FLAT = (100.0, 100.0, 100.0, 100.0, 10.0)


def limit(side: Side, qty: float, price: float, **kw: object) -> OrderRequest:
    return OrderRequest(side, qty, OrderType.LIMIT, limit_price=price, **kw)  # type: ignore[arg-type]


def stop(side: Side, qty: float, price: float, **kw: object) -> OrderRequest:
    return OrderRequest(side, qty, OrderType.STOP, stop_price=price, **kw)  # type: ignore[arg-type]


class TestMarket:
    def test_fills_at_the_open_of_its_first_second_with_slippage_and_commission(self) -> None:
        book = Book(
            [FLAT, (101.0, 102.0, 100.5, 101.5, 10.0), (105.0, 106.0, 104.0, 105.0, 10.0)],
            slippage_ticks=2,
            commission_per_contract=1.25,
            commission_rate=0.001,
            multiplier=5,
        )
        order = book.matcher.submit(OrderRequest(BUY, 2), at(0), active_from=1)
        book.run()
        [fill] = book.fills
        assert (fill.ts, fill.index, fill.price, fill.qty) == (at(1), 1, 101.5, 2)
        # 2 x 1.25 + 101.5 x 2 x 5 x 0.001
        assert fill.commission == pytest.approx(2.5 + 1.015)
        assert book.statuses(order.order_id) == ["new", "working", "filled"]

    def test_a_sell_slips_down(self) -> None:
        book = Book([FLAT, (101.0, 102.0, 100.0, 101.0, 10.0)], slippage_ticks=1)
        book.matcher.submit(OrderRequest(SELL, 1), at(0), active_from=1)
        book.run()
        assert book.fills[0].price == 100.75

    def test_waits_for_data_it_may_trade_in(self) -> None:
        book = Book([FLAT, FLAT])
        book.matcher.submit(OrderRequest(BUY, 1), at(2), active_from=2)
        book.run()
        assert book.fills == []
        assert book.matcher.working


class TestLimit:
    def test_fills_at_the_limit_in_the_first_second_that_reaches_it(self) -> None:
        rows = [FLAT, (100.0, 100.5, 99.5, 100.0, 10.0), (100.0, 100.0, 98.75, 99.0, 10.0),
                (99.0, 99.0, 97.0, 97.5, 10.0)]
        book = Book(rows, slippage_ticks=4)
        book.matcher.submit(limit(BUY, 1, 99.0), at(0), active_from=1)
        book.run()
        [fill] = book.fills
        assert (fill.index, fill.price) == (2, 99.0)  # no slippage on a limit

    def test_a_gap_through_the_limit_fills_at_the_better_open(self) -> None:
        book = Book([FLAT, (97.0, 97.5, 96.5, 97.0, 10.0)])
        book.matcher.submit(limit(BUY, 1, 99.0), at(0), active_from=1)
        book.run()
        assert book.fills[0].price == 97.0

    def test_a_sell_limit_gapped_up_fills_at_the_open(self) -> None:
        book = Book([FLAT, (104.0, 105.0, 103.5, 104.5, 10.0)])
        book.matcher.submit(limit(SELL, 1, 101.0), at(0), active_from=1)
        book.run()
        assert book.fills[0].price == 104.0

    def test_touch_fills_but_through_needs_a_trade_beyond_the_limit(self) -> None:
        rows = [FLAT, (100.0, 100.0, 99.0, 99.5, 10.0), (99.5, 99.5, 98.75, 99.0, 10.0)]
        touch = Book(rows)
        touch.matcher.submit(limit(BUY, 1, 99.0), at(0), active_from=1)
        touch.run()
        through = Book(rows, limit_fill="through")
        through.matcher.submit(limit(BUY, 1, 99.0), at(0), active_from=1)
        through.run()
        assert touch.fills[0].index == 1
        assert through.fills[0].index == 2

    def test_prices_snap_to_the_tick_grid(self) -> None:
        book = Book([FLAT, (99.0, 99.0, 98.0, 98.5, 10.0)])
        order = book.matcher.submit(limit(BUY, 1, 99.13), at(0), active_from=1)
        assert order.limit_price == 99.25


class TestStop:
    def test_fills_at_the_stop_plus_slippage_when_touched_inside_a_second(self) -> None:
        rows = [FLAT, (100.0, 100.75, 99.75, 100.5, 10.0), (100.5, 101.5, 100.25, 101.0, 10.0)]
        book = Book(rows, slippage_ticks=1)
        book.matcher.submit(stop(BUY, 1, 101.0), at(0), active_from=1)
        book.run()
        [fill] = book.fills
        assert (fill.index, fill.price) == (2, 101.25)

    def test_a_stop_gapped_through_fills_at_the_open(self) -> None:
        book = Book([FLAT, (103.0, 103.5, 102.5, 103.0, 10.0)], slippage_ticks=1)
        book.matcher.submit(stop(BUY, 1, 101.0), at(0), active_from=1)
        book.run()
        assert book.fills[0].price == 103.25

    def test_a_sell_stop_gapped_down_fills_at_the_open(self) -> None:
        book = Book([FLAT, (96.0, 96.5, 95.0, 95.5, 10.0)])
        book.matcher.submit(stop(SELL, 1, 99.0), at(0), active_from=1)
        book.run()
        assert book.fills[0].price == 96.0


class TestStopLimit:
    def request(self, stop_price: float, limit_price: float) -> OrderRequest:
        return OrderRequest(BUY, 1, OrderType.STOP_LIMIT, limit_price=limit_price,
                            stop_price=stop_price)

    def test_triggers_and_fills_at_the_stop_when_the_limit_allows(self) -> None:
        book = Book([FLAT, (100.0, 101.5, 99.5, 101.0, 10.0)], slippage_ticks=2)
        book.matcher.submit(self.request(101.0, 101.5), at(0), active_from=1)
        book.run()
        assert book.fills[0].price == 101.0  # a limit: no slippage

    def test_a_gap_past_the_limit_triggers_then_waits_for_the_limit(self) -> None:
        rows = [FLAT, (103.0, 104.0, 102.5, 103.0, 10.0), (103.0, 103.0, 102.0, 102.5, 10.0),
                (102.0, 102.0, 101.25, 101.5, 10.0)]
        book = Book(rows)
        order = book.matcher.submit(self.request(101.0, 101.5), at(0), active_from=1)
        book.run()
        [fill] = book.fills
        assert (fill.index, fill.price) == (3, 101.5)
        updates = book.updates(order.order_id)
        assert [u.reason for u in updates][2] == "stop triggered"
        assert updates[2].ts == at(1)


class TestBracket:
    def entry(self, **kw: object) -> OrderRequest:
        return OrderRequest(BUY, 2, stop_loss=98.0, take_profit=103.0, **kw)  # type: ignore[arg-type]

    def test_legs_start_after_the_entry_and_the_target_cancels_the_stop(self) -> None:
        rows = [FLAT, (100.0, 100.0, 97.0, 99.0, 10.0),  # entry at 100; legs not yet working
                (99.0, 101.0, 99.0, 100.5, 10.0), (100.5, 103.5, 100.5, 103.0, 10.0)]
        book = Book(rows)
        entry = book.matcher.submit(self.entry(), at(0), active_from=1)
        book.run()
        assert [(f.order_id, f.side, f.qty, f.price, f.index) for f in book.fills] == [
            (entry.order_id, BUY, 2, 100.0, 1),
            (f"{entry.order_id}-tp", SELL, 2, 103.0, 3),
        ]
        assert book.statuses(f"{entry.order_id}-sl")[-1] == "cancelled"
        leg = book.updates(f"{entry.order_id}-sl")[0]
        assert (leg.parent_id, leg.stop_price, leg.order_type) == (entry.order_id, 98.0, "stop")
        assert not book.matcher.working

    def test_a_second_touching_stop_and_target_fills_the_stop_by_default(self) -> None:
        rows = [FLAT, FLAT, (100.0, 104.0, 97.0, 100.0, 10.0)]
        book = Book(rows, slippage_ticks=1)
        entry = book.matcher.submit(self.entry(), at(0), active_from=1)
        book.run()
        exit_fill = book.fills[-1]
        assert (exit_fill.order_id, exit_fill.price) == (f"{entry.order_id}-sl", 97.75)
        assert book.statuses(f"{entry.order_id}-tp")[-1] == "cancelled"

    @pytest.mark.parametrize(
        ("rule", "opening", "winner"),
        [("optimistic", 100.0, "tp"), ("nearest", 102.0, "tp"), ("nearest", 99.0, "sl")],
    )
    def test_the_tie_rule_is_configurable(self, rule: str, opening: float, winner: str) -> None:
        rows = [FLAT, FLAT, (opening, 104.0, 97.0, 100.0, 10.0)]
        book = Book(rows, both_touched=rule)
        entry = book.matcher.submit(self.entry(), at(0), active_from=1)
        book.run()
        assert book.fills[-1].order_id == f"{entry.order_id}-{winner}"

    def test_the_earlier_second_wins_whatever_the_rule(self) -> None:
        # one 3-second candle touches both, but the target comes a second before the stop
        rows = [FLAT, FLAT, (100.0, 103.5, 99.5, 103.0, 10.0), (103.0, 103.0, 97.0, 97.5, 10.0)]
        book = Book(rows)  # pessimistic
        entry = book.matcher.submit(self.entry(), at(0), active_from=1)
        book.run()
        assert book.fills[-1].order_id == f"{entry.order_id}-tp"

    def test_a_partial_entry_grows_its_legs(self) -> None:
        rows = [FLAT, (100.0, 100.0, 100.0, 100.0, 1.0), (100.0, 100.0, 100.0, 100.0, 1.0),
                (100.0, 100.0, 97.5, 98.0, 10.0)]
        book = Book(rows, volume_participation=1.0)
        entry = book.matcher.submit(self.entry(), at(0), active_from=1)
        book.run()
        stop_leg = book.updates(f"{entry.order_id}-sl")
        assert [u.qty for u in stop_leg] == [1, 1, 2, 2]
        assert [(f.order_id, f.qty) for f in book.fills] == [
            (entry.order_id, 1), (entry.order_id, 1), (f"{entry.order_id}-sl", 2)]

    def test_a_bracket_with_the_stop_above_the_target_is_rejected(self) -> None:
        book = Book([FLAT])
        order = book.matcher.submit(
            OrderRequest(BUY, 1, stop_loss=103.0, take_profit=98.0), at(0), active_from=1
        )
        assert book.statuses(order.order_id) == ["new", "rejected"]


class TestPartialFills:
    def test_each_second_gives_at_most_its_share_of_volume(self) -> None:
        rows = [FLAT, (100.0, 100.5, 99.5, 100.0, 4.0), (100.5, 100.5, 100.5, 100.5, 1.0),
                (101.0, 101.0, 101.0, 101.0, 6.0)]
        book = Book(rows, volume_participation=0.5)
        order = book.matcher.submit(OrderRequest(BUY, 5), at(0), active_from=1)
        book.run()
        # second 2 has floor(1 x 0.5) = 0 contracts to give
        assert [(f.index, f.qty, f.price) for f in book.fills] == [(1, 2, 100.0), (3, 3, 101.0)]
        assert book.statuses(order.order_id) == ["new", "working", "partially_filled", "filled"]
        assert book.updates(order.order_id)[-1].avg_fill_price == pytest.approx(100.6)

    def test_a_partly_filled_limit_only_fills_where_its_price_still_trades(self) -> None:
        rows = [FLAT, (99.0, 99.0, 98.5, 99.0, 2.0), (101.0, 101.0, 100.0, 100.5, 9.0),
                (99.5, 99.5, 99.0, 99.0, 9.0)]
        book = Book(rows, volume_participation=1.0)
        book.matcher.submit(limit(BUY, 5, 99.0), at(0), active_from=1)
        book.run()
        assert [(f.index, f.qty) for f in book.fills] == [(1, 2), (3, 3)]


class TestTimeInForce:
    def test_gtd_expires_at_its_time_and_never_fills_after_it(self) -> None:
        rows = [FLAT, (100.0, 100.0, 99.5, 100.0, 10.0), (100.0, 100.0, 98.0, 98.5, 10.0)]
        book = Book(rows)
        order = book.matcher.submit(
            limit(BUY, 1, 99.0, tif=TimeInForce.GTD, expire_ts=at(2)), at(0), active_from=1
        )
        book.run()
        assert book.fills == []
        last = book.updates(order.order_id)[-1]
        assert (last.status, last.ts) == ("expired", at(2))

    def test_a_gtd_fills_before_its_expiry(self) -> None:
        rows = [FLAT, (100.0, 100.0, 98.5, 99.0, 10.0), FLAT]
        book = Book(rows)
        book.matcher.submit(
            limit(BUY, 1, 99.0, tif=TimeInForce.GTD, expire_ts=at(2)), at(0), active_from=1
        )
        book.run()
        assert len(book.fills) == 1

    def test_expiry_waits_until_the_window_reaches_it(self) -> None:
        book = Book([FLAT] * 4)
        order = book.matcher.submit(
            limit(BUY, 1, 90.0, tif=TimeInForce.GTD, expire_ts=at(3)), at(0), active_from=1
        )
        book.run(0, 2)
        assert book.statuses(order.order_id)[-1] == "working"
        book.run(2, 4)
        assert book.statuses(order.order_id)[-1] == "expired"

    def test_day_orders_expire_at_the_end_of_the_utc_day(self) -> None:
        day = 86_400 * 1_000_000_000
        book = Book([FLAT, FLAT])
        order = book.matcher.submit(limit(BUY, 1, 90.0, tif=TimeInForce.DAY), at(1), 1)
        assert order.expire_ts == T0 + day
        book.matcher.advance(0, 2, T0 + day)
        assert book.updates(order.order_id)[-1].ts == T0 + day

    def test_ioc_trades_its_first_second_only(self) -> None:
        rows = [FLAT, (100.0, 100.0, 99.5, 100.0, 10.0), (99.0, 99.0, 98.0, 98.5, 10.0)]
        book = Book(rows)
        order = book.matcher.submit(limit(BUY, 1, 99.0, tif=TimeInForce.IOC), at(0), 1)
        book.run()
        assert book.fills == []
        assert book.statuses(order.order_id)[-1] == "cancelled"

    def test_ioc_keeps_what_filled_and_cancels_the_rest(self) -> None:
        rows = [FLAT, (100.0, 100.0, 99.0, 99.5, 3.0), (99.0, 99.0, 98.0, 98.5, 10.0)]
        book = Book(rows, volume_participation=1.0)
        order = book.matcher.submit(limit(BUY, 5, 99.0, tif=TimeInForce.IOC), at(0), 1)
        book.run()
        assert [f.qty for f in book.fills] == [3]
        assert book.statuses(order.order_id)[-2:] == ["partially_filled", "cancelled"]

    def test_fok_is_all_or_nothing(self) -> None:
        rows = [FLAT, (100.0, 100.0, 99.0, 99.5, 3.0), (99.0, 99.0, 98.0, 98.5, 10.0)]
        book = Book(rows, volume_participation=1.0)
        too_big = book.matcher.submit(limit(BUY, 5, 99.0, tif=TimeInForce.FOK), at(0), 1)
        fits = book.matcher.submit(limit(BUY, 3, 99.0, tif=TimeInForce.FOK), at(0), 1)
        book.run()
        assert [(f.order_id, f.qty) for f in book.fills] == [(fits.order_id, 3)]
        assert book.statuses(too_big.order_id)[-1] == "cancelled"


class TestRequests:
    @pytest.mark.parametrize(
        ("request_", "reason"),
        [
            (OrderRequest(BUY, 0), "qty must be > 0"),
            (OrderRequest(BUY, 1, OrderType.LIMIT), "needs limit_price"),
            (OrderRequest(BUY, 1, OrderType.STOP_LIMIT, limit_price=1.0), "needs stop_price"),
            (OrderRequest(BUY, 1, OrderType.LIMIT, limit_price=1.0, tif=TimeInForce.GTD),
             "needs expire_ts"),
        ],
    )
    def test_bad_requests_are_rejected_with_the_reason(
        self, request_: OrderRequest, reason: str
    ) -> None:
        book = Book([FLAT, FLAT])
        order = book.matcher.submit(request_, at(0), 1)
        last = book.updates(order.order_id)[-1]
        assert last.status == "rejected"
        assert last.reason is not None
        assert reason in last.reason

    def test_cancel_stops_a_working_order(self) -> None:
        book = Book([FLAT, (99.0, 99.0, 98.0, 98.5, 10.0)])
        order = book.matcher.submit(limit(BUY, 1, 99.0), at(0), 1)
        assert book.matcher.cancel(order.order_id, at(0))
        assert not book.matcher.cancel(order.order_id, at(0))
        book.run()
        assert book.fills == []

    def test_rules_check_their_values(self) -> None:
        with pytest.raises(ValueError, match="volume_participation must be in"):
            FillRules(volume_participation=1.5)
        with pytest.raises(ValueError, match="both_touched must be"):
            FillRules(both_touched="coin")  # type: ignore[arg-type]
