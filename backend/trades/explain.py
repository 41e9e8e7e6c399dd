"""Why is this a trade? The reconstruction of one trade, fill by fill. Pure.

The steps come from `reconstruct.Position`, the very code that builds the stored trades
(the compiled kernel gives the same results: tests/trades/test_kernel.py), so the
explanation cannot disagree with the trade it explains:

- From flat, the trade's first fill opens it. When that fill crossed zero (it also
  closed the trade before), the position is started as the fill found it: the other way
  round by the quantity the fill closed, so `Position.apply` splits the fill and its
  commission exactly as the rebuild did.
- Each later fill of the position, in (ts, arrival) order, is applied until the trade
  closes; after each, the position and the part of the fill that belongs to this trade
  (and to the next, for a fill that reverses it).

`excursion_bars` says which bars count for MFE/MAE and which bar (or fill price) gave
each extreme, with `excursions.excursion`'s rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from backend.trades.excursions import NS, excursion
from backend.trades.reconstruct import Fill, Position, TradeResult


@dataclass(frozen=True)
class ExplainFill:
    fill: Fill
    exec_id: str
    order_id: str | None


@dataclass(frozen=True)
class Crossing:
    """The trade's first fill crossed zero: it first closed `previous_trade_id` with `qty`."""

    previous_trade_id: int
    qty: float


@dataclass(frozen=True)
class Part:
    trade_id: int
    role: str  # entry or exit
    qty: Decimal
    commission: Decimal


@dataclass(frozen=True)
class Step:
    fill: ExplainFill
    position_before: Decimal  # signed: long > 0
    position_after: Decimal
    action: str  # open, opened_by_reversal, scale_in, partial_exit, close, reverse
    part: Part  # the part of the fill in this trade
    other: Part | None  # the part in the trade before (opened_by_reversal) or after (reverse)
    commission: Decimal  # the whole fill's

    @property
    def split(self) -> str:
        """`whole`: the fill's commission is this trade's; `pro_rata`: split by quantity."""
        return "whole" if self.other is None else "pro_rata"


@dataclass(frozen=True)
class Explanation:
    steps: tuple[Step, ...]
    trade: TradeResult | None  # the trade as the replay built it
    closed: bool


def _d(scaled: int) -> Decimal:
    return Decimal(scaled).scaleb(-8)


def explain(
    fills: Sequence[ExplainFill], multiplier: float, crossing: Crossing | None = None
) -> Explanation:
    """Replay `fills` (the trade's first fill, then the position's later fills in (ts, seq)
    order) until the trade closes."""
    if not fills:
        return Explanation((), None, False)
    position = Position(multiplier)
    first = fills[0]
    trade_id = first.fill.seq
    steps: list[Step] = []
    if crossing is not None:
        opposite = "sell" if first.fill.side == "buy" else "buy"
        before = Fill(
            crossing.previous_trade_id, first.fill.ts, opposite, crossing.qty, first.fill.price, 0.0
        )
        position.apply(before)
    for item in fills:
        fill = item.fill
        held = position.trade.position if position.trade is not None else 0
        closed = position.apply(fill)
        state = position.trade
        whole = Decimal(round(fill.commission * 10**8)).scaleb(-8)
        if closed is not None and closed.id != trade_id:  # the crossing: previous trade closed
            assert state is not None
            seq, role, qty, fee = state.fills[0]
            last = closed.fills[-1]
            previous = Part(closed.id, last.role, last.qty, last.commission)
            steps.append(
                Step(
                    item,
                    _d(held),
                    _d(state.position),
                    "opened_by_reversal",
                    Part(trade_id, role, _d(qty), _d(fee)),
                    previous,
                    whole,
                )
            )
            continue
        if closed is not None:  # this trade closed
            last = closed.fills[-1]
            other = None
            if state is not None:
                _seq, role, qty, fee = state.fills[0]
                other = Part(state.first_seq, role, _d(qty), _d(fee))
            after = state.position if state is not None else 0
            steps.append(
                Step(
                    item,
                    _d(held),
                    _d(after),
                    "reverse" if other else "close",
                    Part(trade_id, last.role, last.qty, last.commission),
                    other,
                    whole,
                )
            )
            return Explanation(tuple(steps), closed, True)
        assert state is not None
        _seq, role, qty, fee = state.fills[-1]
        action = "open" if held == 0 else "scale_in" if role == "entry" else "partial_exit"
        steps.append(
            Step(
                item,
                _d(held),
                _d(state.position),
                action,
                Part(trade_id, role, _d(qty), _d(fee)),
                None,
                whole,
            )
        )
    return Explanation(tuple(steps), position.open_trade(), False)


@dataclass(frozen=True)
class ExcursionBars:
    timeframe_s: int
    bar_count: int  # bars wholly inside the trade's life
    first_bar_ts: int | None
    last_bar_ts: int | None
    high_bar_ts: int | None  # the counted bar with the highest high
    high: float | None
    low_bar_ts: int | None  # the counted bar with the lowest low
    low: float | None
    mfe: float
    mae: float
    mfe_from: str  # bar, entry or exit: where the favourable extreme came from
    mae_from: str


def excursion_bars(
    direction: str,
    entry_price: float,
    exit_price: float | None,
    entry_ts: int,
    exit_ts: int | None,
    bar_ts: npt.NDArray[np.int64],
    bar_high: npt.NDArray[np.float64],
    bar_low: npt.NDArray[np.float64],
    timeframe_s: int,
) -> ExcursionBars:
    """Which bars count for MFE/MAE (docs/trades.md, "Excursions") and which gave each
    extreme; `mfe`/`mae` are `excursions.excursion`'s."""
    first = int(np.searchsorted(bar_ts, entry_ts, side="left"))
    last = (
        len(bar_ts)
        if exit_ts is None
        else int(np.searchsorted(bar_ts, exit_ts - timeframe_s * NS, side="right"))
    )
    measured = excursion(
        direction,
        entry_price,
        exit_price,
        entry_ts,
        exit_ts,
        bar_ts,
        bar_high,
        bar_low,
        timeframe_s,
    )
    count = max(last - first, 0)
    high_i = first + int(np.argmax(bar_high[first:last])) if count else None
    low_i = first + int(np.argmin(bar_low[first:last])) if count else None
    high = float(bar_high[high_i]) if high_i is not None else None
    low = float(bar_low[low_i]) if low_i is not None else None
    prices = [("entry", entry_price)] + ([("exit", exit_price)] if exit_price is not None else [])
    top = max(prices, key=lambda p: p[1])
    bottom = min(prices, key=lambda p: p[1])
    high_from = "bar" if high is not None and high >= top[1] else top[0]
    low_from = "bar" if low is not None and low <= bottom[1] else bottom[0]
    long = direction == "long"
    return ExcursionBars(
        timeframe_s=timeframe_s,
        bar_count=count,
        first_bar_ts=int(bar_ts[first]) if count else None,
        last_bar_ts=int(bar_ts[last - 1]) if count else None,
        high_bar_ts=int(bar_ts[high_i]) if high_i is not None else None,
        high=high,
        low_bar_ts=int(bar_ts[low_i]) if low_i is not None else None,
        low=low,
        mfe=measured.mfe,
        mae=measured.mae,
        mfe_from=high_from if long else low_from,
        mae_from=low_from if long else high_from,
    )
