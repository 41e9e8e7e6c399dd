"""The reconstruction against an independent one: backtesting.py (kernc) on the GOOG data it ships.

backtesting.py runs a strategy bar by bar and records its own trades. We turn those
trades back into the fills that made them (one fill per order: entries and exits
of the same side on the same bar were one order at one price), feed the fills to
`reconstruct` and compare trade by trade: times, prices, quantities, PnL and
commission.

How backtesting.py's trades relate to ours: it keeps one trade record per entry
order and, with `hedging=False` (the default), fills an order against the
position FIFO: it closes (or reduces, splitting the record) the opposite trades at
the order's price and opens a new trade with what is left. So one order that
crosses zero is, in its records, the exit of one trade and the entry of the next
at the same bar and price, which is exactly how we split a crossing fill.
`exclusive_orders` stays False: with True, a reversal is two orders (a close,
then the new entry) instead of one crossing fill. Its records map 1:1 to our flat
to flat trades only when each trade is entered by one order and left by one
(`SmaReversal`); with scale-ins and partial exits (`SmaPyramid`) several of its
records make one of ours, and we compare sums and weighted averages.

Its commission model (`commission=rate`) charges rate x |size| x price on every
order, the entry and the exit part of each record; a fill's commission here is
the same amount, so the pro rata split of a crossing fill must give back its
per-record figures. Prices are the bars' opens (two decimals), sizes whole shares.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeAlias

import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import GOOG, SMA

from backend.trades.reconstruct import Fill, TradeResult, reconstruct

# backtesting.py's statistics use a pandas attribute that pandas 3 deprecates; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofweek is deprecated")

RATE = 0.002  # 0.2 % of order value, on entries and exits
TOLERANCE = 1e-8
Trades: TypeAlias = Any  # a pandas DataFrame of backtesting.py's trade records


class SmaReversal(Strategy):  # type: ignore[misc]
    """SMA(10)/SMA(20) cross, always in the market: each cross reverses with one order.

    Sizes vary with the bar, so a reversal closes one quantity and opens another.
    """

    def init(self) -> None:
        self.fast = self.I(SMA, self.data.Close, 10)
        self.slow = self.I(SMA, self.data.Close, 20)

    def next(self) -> None:
        size = 10 + len(self.data) % 7 * 5
        held = abs(self.position.size)
        if crossover(self.fast, self.slow):
            self.buy(size=held + size)
        elif crossover(self.slow, self.fast):
            self.sell(size=held + size)


class SmaPyramid(SmaReversal):
    """The same reversals, plus: every 5th bar in a position, add 5 while the close is
    on the trade's side of the fast SMA (a scale-in), otherwise take 5 off (a partial
    exit) while more than 10 are held."""

    def next(self) -> None:
        position = self.position.size
        if crossover(self.fast, self.slow):
            self.buy(size=max(-position, 0) + 20)
        elif crossover(self.slow, self.fast):
            self.sell(size=max(position, 0) + 20)
        elif position and len(self.data) % 5 == 0:
            favourable = (self.data.Close[-1] > self.fast[-1]) == (position > 0)
            if favourable:
                (self.buy if position > 0 else self.sell)(size=5)
            elif abs(position) > 10:
                (self.sell if position > 0 else self.buy)(size=5)


def _run(strategy: type[Strategy]) -> Trades:
    backtest = Backtest(
        GOOG, strategy, cash=1_000_000, commission=RATE, finalize_trades=True
    )  # finalize_trades: the last position is closed on the last bar, so every record is complete
    trades: Trades = backtest.run()._trades
    return trades


def _ns(time: Any) -> int:
    return int(pd.Timestamp(time).as_unit("ns").value)


def _fills(trades: Trades, *, merge: bool) -> list[Fill]:
    """The fills behind backtesting.py's trade records, in the order it made them.

    Every record has an entry (at EntryTime, EntryPrice, its signed Size) and an exit
    (the opposite side). `merge`: events of one side on one bar are one order, one
    fill (a reversal becomes a fill crossing zero). Otherwise each event is its own
    fill, the exits of a bar before its entries, as backtesting.py closes FIFO
    before it opens.
    """
    events: list[tuple[int, int, int, float]] = []  # (bar, 0 exit / 1 entry, signed size, price)
    for row in trades.itertuples():
        events.append((row.EntryBar, 1, row.Size, row.EntryPrice))
        events.append((row.ExitBar, 0, -row.Size, row.ExitPrice))
    events.sort(key=lambda e: (e[0], e[1]))  # stable: records keep their FIFO order
    orders: list[tuple[int, int, float]] = []  # (bar, signed size, price)
    for bar, _role, size, price in events:
        last = orders[-1] if orders else None
        if merge and last is not None and last[0] == bar and (last[1] > 0) == (size > 0):
            assert last[2] == price, f"one order at two prices on bar {bar}: {last[2]}, {price}"
            orders[-1] = (bar, last[1] + size, price)
        else:
            orders.append((bar, size, price))
    bars = [bar for bar, _size, _price in orders]
    if merge:  # these strategies send at most one order a bar
        assert len(bars) == len(set(bars)), "a bar with both a buy and a sell"
    return [
        Fill(
            seq,
            _ns(GOOG.index[bar]),
            "buy" if size > 0 else "sell",
            abs(size),
            price,
            RATE * abs(size) * price,
        )
        for seq, (bar, size, price) in enumerate(orders, start=1)
    ]


def _close(ours: Decimal | None, theirs: float, what: str, trade: TradeResult) -> None:
    assert ours is not None, f"trade {trade.id}: no {what}"
    assert abs(float(ours) - theirs) <= TOLERANCE, (
        f"trade {trade.id} ({trade.direction} from {trade.entry_ts}): {what} is {ours},"
        f" backtesting.py says {theirs}"
    )


def _same_trades(ours: list[TradeResult], theirs: Trades) -> None:
    """One backtesting.py record per trade of ours, in the same order."""
    assert len(ours) == len(theirs)
    for trade, row in zip(ours, theirs.itertuples(), strict=True):
        assert not trade.is_open
        assert trade.direction == ("long" if row.Size > 0 else "short")
        assert (trade.entry_ts, trade.exit_ts) == (_ns(row.EntryTime), _ns(row.ExitTime))
        assert trade.qty == abs(row.Size)
        assert trade.max_position == abs(row.Size)
        _close(trade.entry_price, row.EntryPrice, "entry price", trade)
        _close(trade.exit_price, row.ExitPrice, "exit price", trade)
        # PnL in backtesting.py is net of both commissions: gross = PnL + Commission
        _close(trade.gross_pnl, row.PnL + row.Commission, "gross PnL", trade)
        _close(trade.commission, row.Commission, "commission", trade)
        _close(trade.net_pnl, row.PnL, "net PnL", trade)


@pytest.fixture(scope="module")
def reversals() -> Trades:
    return _run(SmaReversal)


@pytest.fixture(scope="module")
def pyramid() -> Trades:
    return _run(SmaPyramid)


class TestAgainstBacktestingPy:
    def test_its_run_has_reversals_to_check(self, reversals: Trades) -> None:
        reversed_on_entry = (reversals.EntryBar.iloc[1:].to_numpy() ==
                             reversals.ExitBar.iloc[:-1].to_numpy())  # fmt: skip
        assert len(reversals) > 50
        assert reversed_on_entry.all()
        assert (reversals.Size.abs().iloc[1:].to_numpy() !=
                reversals.Size.abs().iloc[:-1].to_numpy()).any()  # fmt: skip

    @pytest.mark.parametrize("merge", [True, False], ids=["crossing-fills", "close-then-open"])
    def test_stop_and_reverse_matches_trade_for_trade(self, reversals: Trades, merge: bool) -> None:
        fills = _fills(reversals, merge=merge)
        if merge:  # every reversal is one fill crossing zero
            assert len(fills) == len(reversals) + 1
        _same_trades(reconstruct(fills), reversals)

    def test_scale_ins_and_partial_exits_sum_to_our_trades(self, pyramid: Trades) -> None:
        ours = reconstruct(_fills(pyramid, merge=True))
        assert len(pyramid) > len(ours) > 50  # several records make one of our trades
        roles = [[part.role for part in t.fills] for t in ours]
        assert any(r.count("entry") > 1 for r in roles)  # scale-ins
        assert any(r.count("exit") > 1 for r in roles)  # partial exits
        sign = pyramid.Size > 0
        matched = 0
        for trade in ours:
            assert trade.exit_ts is not None
            entry = pyramid.EntryTime.map(_ns)
            # its records for this trade: same direction, entered while the trade was open
            mine = pyramid[
                (sign == (trade.direction == "long"))
                & (entry >= trade.entry_ts)
                & (entry < trade.exit_ts)
            ]
            matched += len(mine)
            size = mine.Size.abs()
            qty = float(size.sum())
            assert float(trade.qty) == qty
            assert trade.exit_ts == max(mine.ExitTime.map(_ns))
            assert trade.entry_ts == min(entry[mine.index])
            _close(trade.entry_price, _weighted(size, mine.EntryPrice), "entry price", trade)
            _close(trade.exit_price, _weighted(size, mine.ExitPrice), "exit price", trade)
            _close(trade.gross_pnl, float((mine.PnL + mine.Commission).sum()), "gross PnL", trade)
            _close(trade.commission, float(mine.Commission.sum()), "commission", trade)
        assert matched == len(pyramid)


def _weighted(size: Any, price: Any) -> float:
    """The quantity-weighted average, rounded half-even to 1e-8 like ours."""
    average = sum(Decimal(int(s)) * Decimal(str(p)) for s, p in zip(size, price, strict=True))
    quantized = (average / Decimal(int(size.sum()))).quantize(Decimal("0.00000001"))
    return float(quantized)
