"""Matching the trades of two runs (e.g. a backtest and its live run). Pure.

Trades match when symbol and direction agree and their entries lie within the
tolerance; pairs are taken greedily by closest entry time, each trade at most
once. Slippage is run B against run A, in price, positive when B did worse:
entry slippage = (B entry - A entry) for longs, (A entry - B entry) for shorts;
exit slippage = (A exit - B exit) for longs, (B exit - A exit) for shorts.
Prices and P&L are integers of 1e-8 (the stored amounts' exact units), so the
differences and their sums are exact; callers divide by UNIT once, at the edge.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ComparableTrade:
    id: int
    symbol: str
    direction: str
    entry_ts: int
    exit_ts: int | None
    entry_price: int  # 1e-8 units
    exit_price: int | None
    net_pnl: int


@dataclass(frozen=True)
class Match:
    a: ComparableTrade
    b: ComparableTrade

    @property
    def entry_delay_s(self) -> float:
        return (self.b.entry_ts - self.a.entry_ts) / 1e9

    @property
    def entry_slippage(self) -> int:
        move = self.b.entry_price - self.a.entry_price
        return move if self.a.direction == "long" else -move

    @property
    def exit_slippage(self) -> int | None:
        if self.a.exit_price is None or self.b.exit_price is None:
            return None
        move = self.a.exit_price - self.b.exit_price
        return move if self.a.direction == "long" else -move

    @property
    def pnl_difference(self) -> int:
        return self.b.net_pnl - self.a.net_pnl


def match_trades(
    a: Sequence[ComparableTrade], b: Sequence[ComparableTrade], tolerance_ns: int
) -> tuple[list[Match], list[ComparableTrade], list[ComparableTrade]]:
    """(matches in A's entry order, trades only in A, trades only in B)."""
    by_key: dict[tuple[str, str], list[ComparableTrade]] = {}
    for y in sorted(b, key=lambda t: t.entry_ts):
        by_key.setdefault((y.symbol, y.direction), []).append(y)
    starts = {key: [t.entry_ts for t in trades] for key, trades in by_key.items()}
    candidates = []
    for x in a:  # only B's trades within the tolerance window (bisect), not every pair
        key = (x.symbol, x.direction)
        if key not in by_key:
            continue
        low = bisect_left(starts[key], x.entry_ts - tolerance_ns)
        high = bisect_right(starts[key], x.entry_ts + tolerance_ns)
        for y in by_key[key][low:high]:
            candidates.append((abs(x.entry_ts - y.entry_ts), x.entry_ts, x.id, y.id, x, y))
    candidates.sort(key=lambda c: c[:4])
    used_a: set[int] = set()
    used_b: set[int] = set()
    matches = []
    for _gap, _ts, a_id, b_id, x, y in candidates:
        if a_id in used_a or b_id in used_b:
            continue
        used_a.add(a_id)
        used_b.add(b_id)
        matches.append(Match(x, y))
    matches.sort(key=lambda m: (m.a.entry_ts, m.a.id))
    return (
        matches,
        [x for x in a if x.id not in used_a],
        [y for y in b if y.id not in used_b],
    )
