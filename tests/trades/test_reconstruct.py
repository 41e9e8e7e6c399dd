"""The reconstruction core on hand-computed cases and on properties of any fill sequence."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.trades.reconstruct import Fill, FillPart, Position, TradeResult, reconstruct

D = Decimal


def _summary(t: TradeResult) -> tuple[object, ...]:
    return (t.id, t.direction, t.qty, t.entry_price, t.exit_price, t.gross_pnl, t.commission,
            t.net_pnl, t.entry_ts, t.exit_ts)  # fmt: skip


class TestHandComputed:
    def test_scale_in_and_out_is_one_trade(self) -> None:
        # MES (x5): buy 2 @ 4700.25, buy 1 @ 4701.00, sell 1 @ 4702.00, sell 2 @ 4703.50
        fills = [
            Fill(1, 10, "buy", 2, 4700.25, 0.74),
            Fill(2, 20, "buy", 1, 4701.00, 0.37),
            Fill(3, 30, "sell", 1, 4702.00, 0.37),
            Fill(4, 40, "sell", 2, 4703.50, 0.74),
        ]
        (trade,) = reconstruct(fills, multiplier=5)
        # entry = (2*4700.25 + 4701)/3 = 4700.50; exit = (4702 + 2*4703.5)/3 = 4703.00
        # gross = (4703.00 - 4700.50) * 3 * 5 = 37.50; commission 2.22; net 35.28
        assert _summary(trade) == (
            1,
            "long",
            D(3),
            D("4700.5"),
            D("4703"),
            D("37.5"),
            D("2.22"),
            D("35.28"),
            10,
            40,
        )
        assert trade.max_position == 3
        assert [(p.seq, p.role, p.qty) for p in trade.fills] == [
            (1, "entry", D(2)),
            (2, "entry", D(1)),
            (3, "exit", D(1)),
            (4, "exit", D(2)),
        ]

    def test_reversal_in_one_fill_splits_quantity_and_commission(self) -> None:
        # ES (x50): buy 1 @ 100, sell 3 @ 101 (commission 1.50 -> 0.50 closes, 1.00 opens), buy 2 @ 99.5
        fills = [
            Fill(1, 1, "buy", 1, 100, 0.5),
            Fill(2, 2, "sell", 3, 101, 1.5),
            Fill(3, 3, "buy", 2, 99.5, 0),
        ]
        long, short = reconstruct(fills, multiplier=50)
        assert _summary(long) == (1, "long", D(1), D(100), D(101), D(50), D(1), D(49), 1, 2)
        assert _summary(short) == (2, "short", D(2), D(101), D("99.5"), D(150), D(1), D(149), 2, 3)
        assert long.fills[-1] == FillPart(2, "exit", D(1), D("0.5"))
        assert short.fills[0] == FillPart(2, "entry", D(2), D("1"))

    def test_pro_rata_commission_never_loses_a_cent_fraction(self) -> None:
        # 1 closes, 2 open: 0.01 * 1/3 = 0.00333333 (half-even), the rest 0.00666667 opens
        long, short = reconstruct([Fill(1, 1, "buy", 1, 10, 0), Fill(2, 2, "sell", 3, 10, 0.01)])
        assert long.commission + short.commission == D("0.01")
        assert (long.commission, short.commission) == (D("0.00333333"), D("0.00666667"))

    def test_partial_fills_of_one_order(self) -> None:
        fills = [Fill(i, 5, "sell", 0.25, 1.10005, 0) for i in range(1, 5)] + [
            Fill(9, 6, "buy", 1, 1.09995, 0)
        ]
        (trade,) = reconstruct(fills, multiplier=100_000)  # EURUSD lot as sent
        # short 1 lot: (1.10005 - 1.09995) * 1 * 100000 = 10.00
        assert (trade.direction, trade.gross_pnl, trade.net_pnl) == ("short", D(10), D(10))

    def test_zero_commission_and_stock_multiplier(self) -> None:
        (trade,) = reconstruct([Fill(1, 1, "buy", 100, 187.13), Fill(2, 2, "sell", 100, 186.99)])
        assert (trade.gross_pnl, trade.commission, trade.net_pnl) == (D("-14"), D(0), D("-14"))

    def test_open_trade_keeps_realised_part_and_marks_the_rest(self) -> None:
        fills = [Fill(1, 1, "buy", 3, 100, 0.3), Fill(2, 2, "sell", 1, 103, 0.1)]
        (trade,) = reconstruct(fills, multiplier=5)
        assert trade.is_open
        assert trade.exit_ts is None
        assert (trade.open_qty, trade.gross_pnl, trade.commission) == (D(2), D(15), D("0.4"))
        # 2 left at 100, marked at 104.25: 2 * 4.25 * 5 = 42.50
        assert trade.unrealised_pnl(104.25, 5) == D("42.5")

    def test_short_loses_when_price_rises(self) -> None:
        (trade,) = reconstruct([Fill(1, 1, "sell", 2, 50.5, 0), Fill(2, 2, "buy", 2, 51.25, 0)], 10)
        assert (trade.direction, trade.gross_pnl) == ("short", D("-15"))

    def test_qty_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="qty must be > 0, got 0"):
            Position().apply(Fill(7, 1, "buy", 0, 1.0))


# -- properties ---------------------------------------------------------------------

prices = st.decimals(min_value=D("0.25"), max_value=D("5000"), places=2).map(float)
quantities = st.integers(min_value=1, max_value=7).map(float) | st.sampled_from([0.5, 0.25, 1.5])
fees = st.decimals(min_value=D(0), max_value=D("3"), places=2).map(float)
fill_lists = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), quantities, prices, fees), min_size=1, max_size=40
).map(
    lambda rows: [
        Fill(i + 1, (i + 1) * 10, side, q, p, c) for i, (side, q, p, c) in enumerate(rows)
    ]
)


class TestProperties:
    @settings(max_examples=300, deadline=None)
    @given(fill_lists, st.sampled_from([1.0, 5.0, 50.0, 0.1]))
    def test_every_fill_is_allocated_exactly_once(
        self, fills: list[Fill], multiplier: float
    ) -> None:
        trades = reconstruct(fills, multiplier)
        allocated: dict[int, Decimal] = {}
        fees: dict[int, Decimal] = {}
        for trade in trades:
            for part in trade.fills:
                allocated[part.seq] = allocated.get(part.seq, D(0)) + part.qty
                fees[part.seq] = fees.get(part.seq, D(0)) + part.commission
        assert allocated == {f.seq: D(str(f.qty)) for f in fills}
        assert fees == {f.seq: D(str(f.commission)) for f in fills}

    @settings(max_examples=300, deadline=None)
    @given(fill_lists)
    def test_no_trade_spans_a_flat_point(self, fills: list[Fill]) -> None:
        position = D(0)
        flat_after: set[int] = set()
        for fill in fills:
            position += D(str(fill.qty)) * (1 if fill.side == "buy" else -1)
            if position == 0:
                flat_after.add(fill.seq)
        for trade in reconstruct(fills):
            inner = (
                [p.seq for p in trade.fills][:-1]
                if not trade.is_open
                else [p.seq for p in trade.fills]
            )
            assert not flat_after.intersection(inner)
            if not trade.is_open:
                assert sum(p.qty for p in trade.fills if p.role == "entry") == sum(
                    p.qty for p in trade.fills if p.role == "exit"
                )

    @settings(max_examples=300, deadline=None)
    @given(fill_lists, st.sampled_from([1.0, 5.0, 50.0]))
    def test_closed_gross_pnl_is_the_cash_flow_of_their_fills(
        self, fills: list[Fill], multiplier: float
    ) -> None:
        by_seq = {f.seq: f for f in fills}
        for trade in reconstruct(fills, multiplier):
            if trade.is_open:
                continue
            cash = sum(
                (
                    D(str(by_seq[p.seq].price)) * p.qty * (-1 if by_seq[p.seq].side == "buy" else 1)
                    for p in trade.fills
                ),
                D(0),
            )
            assert trade.gross_pnl == (cash * D(str(multiplier))).quantize(D("0.00000001"))
            assert trade.net_pnl == trade.gross_pnl - trade.commission
