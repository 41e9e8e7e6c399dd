"""The compiled kernel gives exactly reconstruct()'s trades and fill parts, or steps aside."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.trades import kernel
from backend.trades.rebuild import derive
from backend.trades.reconstruct import Fill, TradeResult, reconstruct, sums_of

D = Decimal


def _parts(trades: list[TradeResult]) -> list[tuple[int, int, str, float, int]]:
    return [
        (t.id, p.seq, p.role, float(p.qty), int(p.commission.scaleb(8)))
        for t in trades
        for p in t.fills
    ]


def _decimals(places: int, low: str, high: str) -> st.SearchStrategy[float]:
    return st.decimals(min_value=D(low), max_value=D(high), places=places).map(float)


quantities = (
    st.integers(1, 7).map(float)
    | st.sampled_from([0.5, 0.25, 1.5, 0.1, 0.3])
    | _decimals(8, "0.00000001", "40")
)
commissions = _decimals(2, "0", "3") | _decimals(8, "-1", "5")
price_kinds = {
    "tick": _decimals(2, "0.25", "5000"),  # futures and stocks
    "fine": _decimals(8, "0.00000001", "2"),  # FX, crypto
    "negative": _decimals(2, "-40", "40"),  # oil in April 2020
    "huge": _decimals(2, "1e11", "9e11"),  # units() beyond int64: the fallback
}


@st.composite
def fill_lists(draw: st.DrawFn) -> list[Fill]:
    kind = draw(st.sampled_from(sorted(price_kinds)))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["buy", "sell"]),
                quantities,
                price_kinds[kind],
                commissions,
                st.sampled_from([0, 0, 1, 7]),  # a quarter at the same ts as the fill before
            ),
            min_size=1,
            max_size=40,
        )
    )
    ts, fills = 1_700_000_000_000_000_000, []
    for i, (side, qty, price, fee, gap) in enumerate(rows):
        ts += gap
        fills.append(Fill(i + 1, ts, side, qty, price, fee))
    return fills


def _fits(fills: list[Fill]) -> bool:
    """Whether int64 holds every product and sum, by the kernel's bounds, worked out apart."""

    def places(values: list[float]) -> int:
        return max(-min(0, int(D(str(v)).normalize().as_tuple().exponent)) for v in values)

    qty_places, price_places = places([f.qty for f in fills]), places([f.price for f in fills])
    max_q = max(int(D(str(f.qty)).scaleb(qty_places)) for f in fills)
    max_p = max(abs(int(D(str(f.price)).scaleb(price_places))) for f in fills)
    max_f = max(abs(int(D(str(f.commission)).scaleb(8))) for f in fills)
    n, limit = len(fills), 2**63 - 1
    return (
        max(abs(f.price) for f in fills) * 1e8 < 2**62
        and max_q * n <= 2**53
        and max_q * max_p * n <= limit
        and max_f * max_q * n <= limit
    )


class TestSameAsReconstruct:
    @settings(max_examples=400, deadline=None)
    @given(fill_lists(), st.sampled_from([1.0, 5.0, 50.0, 0.1, 100000.0]))
    def test_trades_and_parts_are_equal(self, fills: list[Fill], multiplier: float) -> None:
        expected = reconstruct(fills, multiplier)
        matched = kernel.compute(*kernel.columns(fills))
        if matched is None:
            assert not _fits(fills), "a needless fallback"
            return
        assert _fits(fills)
        got = kernel.results(matched, multiplier)
        assert got == expected
        assert [repr(t) for t in got] == [repr(t) for t in expected]  # same Decimal exponents
        assert kernel.part_rows(matched) == _parts(expected)

    @settings(max_examples=200, deadline=None)
    @given(fill_lists(), st.sampled_from([1.0, 5.0, 0.1]))
    def test_derive_gives_the_same_whichever_path_serves(
        self, fills: list[Fill], multiplier: float
    ) -> None:
        expected = reconstruct(fills, multiplier)
        trades, parts = derive(fills, multiplier)
        assert trades == [sums_of(t) for t in expected]
        assert parts == _parts(expected)
        matched = kernel.compute(*kernel.columns(fills)) if fills else None
        if matched is not None:  # the integer sums a rebuild stores, from either path
            assert kernel.sums(matched, multiplier) == trades

    def test_crossing_fill_splits_commission_half_even(self) -> None:
        # sell 3 against 1 long: 1.00000001 * 1/3 = 0.33333333(67) -> 0.33333334 closes
        fills = [Fill(1, 1, "buy", 1, 100, 0), Fill(2, 2, "sell", 3, 101, 1.00000001)]
        matched = kernel.compute(*kernel.columns(fills))
        assert matched is not None
        assert matched.part_commission.tolist() == [0, 33333334, 66666667]
        assert kernel.results(matched) == reconstruct(fills)

    def test_smallest_scales(self) -> None:
        fills = [Fill(1, 1, "buy", 2, 4700.25, 0.74), Fill(2, 2, "sell", 2, 4701.5, 0.74)]
        matched = kernel.compute(*kernel.columns(fills))
        assert matched is not None
        assert (matched.qty_places, matched.price_places) == (0, 2)
        assert matched.entry_notional.tolist() == [2 * 470025]


class TestFallback:
    def test_values_beyond_int64_are_left_to_reconstruct(self) -> None:
        huge = [Fill(1, 1, "buy", 1, 2e11, 0), Fill(2, 2, "sell", 1, 2.5e11, 0)]
        assert kernel.compute(*kernel.columns(huge)) is None
        trades, _parts_ = derive(huge, 1.0)
        assert trades[0].gross_pnl == 50_000_000_000 * 10**8  # 1e-8 units

    def test_products_that_could_overflow_are_left_to_reconstruct(self) -> None:
        # qty in 1e-8 (12345678) x price in 1e-8 (~1e13) x 100 fills > int64
        fills = [
            Fill(i + 1, i, "buy" if i % 2 == 0 else "sell", 0.12345678, 99999.12345678, 0)
            for i in range(100)
        ]
        assert kernel.compute(*kernel.columns(fills)) is None
        trades, parts = derive(fills, 1.0)
        assert trades == [sums_of(t) for t in reconstruct(fills, 1.0)]  # the pure-Python path
        assert len(parts) == 100

    def test_non_positive_quantity_raises_as_reconstruct_does(self) -> None:
        fills = [Fill(1, 1, "buy", 1, 10, 0), Fill(2, 2, "sell", 0, 10, 0)]
        assert kernel.compute(*kernel.columns(fills)) is None
        with pytest.raises(ValueError, match="fill 2: qty must be > 0"):
            derive(fills, 1.0)

    def test_not_ready_means_pure_python(self, monkeypatch: pytest.MonkeyPatch) -> None:
        fills = [Fill(1, 1, "buy", 1, 10, 0.5), Fill(2, 2, "sell", 2, 11, 1)]
        monkeypatch.setattr(kernel, "_compiled", None)
        assert kernel.compute(*kernel.columns(fills)) is None
        trades, parts = derive(fills, 1.0)
        assert [t.id for t in trades] == [1, 2]
        assert [p[0] for p in parts] == [1, 1, 2]  # trade 1 holds both fills, 2 opened by one
        assert parts == _parts(reconstruct(fills))


def test_arrays_of_a_large_book() -> None:
    """Many fills in one call: the same trades as reconstruct(), in int64 without overflow."""
    rng = np.random.default_rng(3)
    n = 20_000
    qty = rng.integers(1, 6, n).astype(np.float64)
    buy = rng.random(n) < 0.5
    price = (4000 + np.cumsum(rng.integers(-4, 5, n)) * 0.25).astype(np.float64)
    fee = np.round(qty * 0.37, 2)
    seq = np.arange(1, n + 1, dtype=np.int64)
    ts = np.cumsum(rng.integers(0, 3, n)).astype(np.int64)
    matched = kernel.compute(seq, ts, buy, qty, price, fee)
    assert matched is not None
    fills = [
        Fill(s, t, "buy" if b else "sell", q, p, c)
        for s, t, b, q, p, c in zip(
            seq.tolist(), ts.tolist(), buy.tolist(), qty.tolist(), price.tolist(), fee.tolist(),
            strict=True,
        )
    ]  # fmt: skip
    assert kernel.results(matched, 5.0) == reconstruct(fills, 5.0)


def test_warm_up_runs_once_and_reports_its_cost() -> None:
    thread = kernel._thread
    kernel.start_warm_up()
    assert kernel._thread is thread is not None  # one background thread, started once
    assert kernel.ready()
    assert set(kernel.warm_up_seconds) == {"import", "compile"}
    assert all(seconds >= 0 for seconds in kernel.warm_up_seconds.values())
