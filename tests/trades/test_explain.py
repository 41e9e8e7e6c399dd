"""The explanation of a trade replays it exactly as reconstruct() builds it
(backend/trades/explain.py)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.trades.explain import Crossing, ExplainFill, excursion_bars, explain
from backend.trades.reconstruct import Fill, TradeResult, reconstruct

D = Decimal


def _fills(*rows: tuple[str, float, float, float]) -> list[ExplainFill]:
    return [
        ExplainFill(Fill(i + 1, (i + 1) * 10, side, qty, price, fee), f"x{i + 1}", None)
        for i, (side, qty, price, fee) in enumerate(rows)
    ]


class TestExplain:
    def test_scale_ins_partial_exits_and_a_reversal(self) -> None:
        fills = _fills(("buy", 1, 100, 0.5), ("buy", 2, 101, 1.0), ("sell", 1, 103, 0.37),
                       ("sell", 3, 102, 0.74), ("buy", 1, 99, 0.33))  # fmt: skip
        result = explain(fills, 5)
        assert [(s.action, s.position_before, s.position_after) for s in result.steps] == [
            ("open", D(0), D(1)), ("scale_in", D(1), D(3)), ("partial_exit", D(3), D(2)),
            ("reverse", D(2), D(-1)),
        ]  # fmt: skip
        reverse = result.steps[-1]
        # 0.74 x 2 / 3 = 0.49333333...; the opening part gets the remainder 0.24666667
        assert (reverse.part.qty, reverse.part.commission) == (D(2), D("0.49333333"))
        assert reverse.other is not None
        assert (reverse.other.trade_id, reverse.other.role, reverse.other.qty) == (4, "entry", D(1))
        assert reverse.other.commission == D("0.24666667")
        assert reverse.part.commission + reverse.other.commission == reverse.commission == D("0.74")
        assert (reverse.split, result.steps[0].split) == ("pro_rata", "whole")
        assert result.closed
        assert result.trade == reconstruct([f.fill for f in fills], 5)[0]

    def test_a_trade_opened_by_a_reversal(self) -> None:
        fills = _fills(("buy", 1, 100, 0.5), ("sell", 3, 102, 1.0), ("buy", 2, 99, 0.2))
        result = explain(fills[1:], 5, Crossing(previous_trade_id=1, qty=1))
        first, last = result.steps
        assert (first.action, first.position_before, first.position_after) == (
            "opened_by_reversal", D(1), D(-2)
        )  # fmt: skip
        # 1.00 x 1 / 3 = 0.33333333 closed trade 1, the rest 0.66666667 opened this one
        assert (first.part.trade_id, first.part.qty, first.part.commission) == (
            2, D(2), D("0.66666667")
        )  # fmt: skip
        assert first.other is not None
        assert (first.other.trade_id, first.other.qty, first.other.commission) == (
            1, D(1), D("0.33333333")
        )  # fmt: skip
        assert (last.action, last.position_after) == ("close", D(0))
        assert result.trade == reconstruct([f.fill for f in fills], 5)[1]

    def test_an_open_trade(self) -> None:
        result = explain(_fills(("sell", 2, 50, 0.1), ("buy", 1, 49, 0.1)), 1)
        assert [s.action for s in result.steps] == ["open", "partial_exit"]
        assert not result.closed
        assert result.trade is not None
        assert (result.trade.is_open, result.trade.open_qty) == (True, D(1))

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["buy", "sell"]),
                st.integers(1, 5),
                st.integers(9_990, 10_010),
                st.integers(0, 97),
            ),  # fmt: skip
            min_size=1,
            max_size=25,
        )
    )
    def test_every_trade_is_explained_as_reconstruct_builds_it(
        self, rows: list[tuple[str, int, int, int]]
    ) -> None:
        fills = _fills(*[(side, qty, price / 100, fee / 100) for side, qty, price, fee in rows])
        trades = reconstruct([f.fill for f in fills], 2.0)
        by_seq = {f.fill.seq: i for i, f in enumerate(fills)}
        previous: TradeResult | None = None
        for trade in trades:
            start = by_seq[trade.id]
            crossing = None
            if previous is not None and previous.fills[-1].seq == trade.id:
                crossing = Crossing(previous.id, float(previous.fills[-1].qty))
            result = explain(fills[start:], 2.0, crossing)
            assert result.trade == trade
            parts = [(s.fill.fill.seq, s.part.role, s.part.qty, s.part.commission)
                     for s in result.steps]  # fmt: skip
            assert parts == [(p.seq, p.role, p.qty, p.commission) for p in trade.fills]
            for step in result.steps:  # every split sums exactly to the fill's commission
                other = step.other.commission if step.other is not None else D(0)
                assert step.part.commission + other == step.commission
            previous = trade


class TestExcursionBars:
    def test_the_bars_that_count_and_the_extremes(self) -> None:
        m = 60_000_000_000
        ts = np.array([0, m, 2 * m, 3 * m, 4 * m], dtype=np.int64)
        high = np.array([110.0, 101.0, 104.0, 102.0, 120.0])
        low = np.array([90.0, 99.5, 100.0, 98.0, 80.0])
        # long from 0:30 to 4:10: bars of 1:00, 2:00 and 3:00 count (0:00 and 4:00 clipped)
        found = excursion_bars("long", 100.0, 103.0, m // 2, 4 * m + m // 6, ts, high, low, 60)
        assert (found.bar_count, found.first_bar_ts, found.last_bar_ts) == (3, m, 3 * m)
        assert (found.high_bar_ts, found.high, found.low_bar_ts, found.low) == (
            2 * m, 104.0, 3 * m, 98.0
        )  # fmt: skip
        assert (found.mfe, found.mae, found.mfe_from, found.mae_from) == (4.0, 2.0, "bar", "bar")
        # a short exiting at 105: the exit is the adverse extreme, the 3:00 low the favourable
        short = excursion_bars("short", 100.0, 105.0, m // 2, 4 * m + m // 6, ts, high, low, 60)
        assert (short.mfe, short.mae, short.mfe_from, short.mae_from) == (2.0, 5.0, "bar", "exit")

    def test_no_bar_inside_the_trade(self) -> None:
        ts = np.array([0], dtype=np.int64)
        found = excursion_bars("long", 100.0, 99.0, 10, 20, ts, np.array([101.0]),
                               np.array([98.0]), 60)  # fmt: skip
        assert (found.bar_count, found.first_bar_ts, found.high) == (0, None, None)
        assert (found.mfe, found.mae, found.mfe_from, found.mae_from) == (0.0, 1.0, "entry", "exit")
