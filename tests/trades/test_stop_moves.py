"""Stop moves and whether moving the stop helped (backend/trades/stop_moves.py)."""

from __future__ import annotations

from decimal import Decimal

from backend.trades.stop_moves import StopMoves, StopOrderHistory, stop_moves

D = Decimal


def _long(gross: str, exit_price: str | None, mae: float | None, *stops: StopOrderHistory,
          exit_orders: frozenset[str] = frozenset()) -> StopMoves:  # fmt: skip
    # long 2 @ 100.00, multiplier 5
    return stop_moves("long", D("100"), D("2"), 5.0, D(gross),
                      None if exit_price is None else D(exit_price), mae, set(exit_orders),
                      list(stops))  # fmt: skip


class TestStopMoves:
    def test_trailed_stop_taken_out_while_the_first_was_never_reached(self) -> None:
        s = StopOrderHistory("s", ((10, 98.0), (20, 99.0), (30, 101.0)))
        result = _long("10", "101", 0.5, s, exit_orders=frozenset({"s"}))
        assert [(m.from_price, m.to_price, m.tighter) for m in result.moves] == [
            (98.0, 99.0, True), (99.0, 101.0, True)
        ]  # fmt: skip
        # MAE 0.5 < 2.0 to the first stop, and the moved stop closed the trade: unknown
        assert (result.verdict, result.effect, result.first_stop_reached) == (
            "unknown", None, False
        )  # fmt: skip

    def test_widened_stop_that_saved_the_trade_helped(self) -> None:
        s = StopOrderHistory("s", ((10, 99.0), (20, 97.0)))
        result = _long("15", "101.5", 1.75, s)
        # first stop 1.0 below the entry, MAE 1.75 reached it: kept, (99 - 100) x 2 x 5 = -10
        assert (result.verdict, result.counterfactual_gross, result.effect) == (
            "helped", D("-10.00000000"), D("25.00000000")
        )  # fmt: skip
        assert result.moves[0].tighter is False

    def test_widened_stop_that_lost_more_hurt(self) -> None:
        s = StopOrderHistory("s", ((10, 99.0), (20, 97.0)))
        result = _long("-30", "97", 3.0, s, exit_orders=frozenset({"s"}))
        assert (result.verdict, result.effect) == ("hurt", D("-20.00000000"))

    def test_first_stop_never_reached_and_another_exit_changes_nothing(self) -> None:
        s = StopOrderHistory("s", ((10, 98.0), (20, 99.5)))
        result = _long("20", "102", 0.25, s, exit_orders=frozenset({"target"}))
        assert (result.verdict, result.effect, result.first_stop_reached) == (
            "no_effect", D("0E-8"), False
        )  # fmt: skip

    def test_a_new_order_replacing_the_stop_is_a_move(self) -> None:
        first = StopOrderHistory("s1", ((10, 98.0), (25, 98.0)))  # cancelled at the same price
        second = StopOrderHistory("s2", ((25, 99.0),))
        result = _long("20", "102", 0.0, first, second)
        assert [(m.order_id, m.from_price, m.to_price) for m in result.moves] == [
            ("s2", 98.0, 99.0)
        ]  # fmt: skip
        assert (result.first_order_id, result.last_stop) == ("s1", 99.0)

    def test_short_without_bars_uses_the_exit_price(self) -> None:
        s = StopOrderHistory("s", ((10, 101.0), (20, 103.0)))
        # short 2 @ 100 exits at 102 through the widened stop: the exit passed the first stop
        result = stop_moves("short", D("100"), D("2"), 5.0, D("-20"), D("102"), None, {"s"}, [s])
        assert (result.verdict, result.counterfactual_gross, result.effect) == (
            "hurt", D("-10.00000000"), D("-10.00000000")
        )  # fmt: skip
        assert result.moves[0].tighter is False

    def test_not_judged(self) -> None:
        assert _long("10", "101", 0.5).verdict == "no_stop"
        kept = StopOrderHistory("s", ((10, 98.0), (20, 98.0)))
        assert _long("10", "101", 0.5, kept).verdict == "not_moved"
        moved = StopOrderHistory("s", ((10, 98.0), (20, 99.0)))
        assert _long("0", None, 0.5, moved).verdict == "open"
