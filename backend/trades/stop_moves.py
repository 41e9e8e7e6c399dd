"""Stop moves over a trade's life, and whether moving the stop helped. Pure.

A trade's protective stops are its `stop` and `stop_limit` orders on the exit side (the
service picks them: linked to an entry order by `parent_id`, the order of an exit fill,
or placed while the trade was open). Their stop prices, in event order, make one chain of
levels: a move is an event whose stop price differs from the level before it, whether the
same order was modified or a new one replaced it. A move is `tighter` when it brings the
stop towards the market's favourable side (up for a long, down for a short).

Whether moving helped compares the trade's gross P&L with what it would have been had the
**first stop stayed**:

- The first stop was reached when the trade's maximum adverse excursion (MAE, from the
  bars that count for it: docs/trades.md) is at least the distance from the average entry
  price to the first stop (without bars: the exit price against the first stop). Then the
  whole position would have left at the first stop: counterfactual gross =
  (first stop − entry) × qty × multiplier (negated for a short), and the effect of the
  moves = actual gross − counterfactual gross (commissions alike in both, so net differs
  by the same). Positive: moving helped; negative: it hurt.
- Not reached, and the trade did not leave through one of its stops: the first stop
  would never have fired, the trade ends the same way: effect 0.
- Not reached, but a moved stop took the trade out: without the move it would have stayed
  open past its exit, and what came after is not the trade's: `unknown`.
Open trades are not judged. The counterfactual assumes the stop covered the whole
position at its average entry, so scale-ins and partial exits make it an approximation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from backend.trades.reconstruct import _QUANTUM

METHOD = (
    "gross P&L minus what it would have been had the first stop stayed: when the MAE "
    "reached the first stop, the whole position exits there; else the trade ends the same "
    "way (0), or, when a moved stop took it out, unknown"
)


@dataclass(frozen=True)
class StopOrderHistory:
    order_id: str
    levels: tuple[tuple[int, float], ...]  # (ts, stop price) of each event that carried one


@dataclass(frozen=True)
class StopMove:
    ts: int
    order_id: str
    from_price: float
    to_price: float
    tighter: bool


@dataclass(frozen=True)
class StopMoves:
    first_stop: float | None
    first_order_id: str | None
    last_stop: float | None
    moves: tuple[StopMove, ...]
    verdict: str  # no_stop, not_moved, open, helped, hurt, no_effect, unknown
    effect: Decimal | None  # actual gross - counterfactual gross, to 1e-8
    counterfactual_gross: Decimal | None
    first_stop_reached: bool | None
    method: str = METHOD


def stop_moves(
    direction: str,
    entry_price: Decimal,
    qty: Decimal,
    multiplier: float,
    gross_pnl: Decimal,
    exit_price: Decimal | None,
    mae: float | None,
    exit_orders: set[str],
    stops: Sequence[StopOrderHistory],
) -> StopMoves:
    """The trade's stop chain and the effect of moving it (module docstring)."""
    sign = 1 if direction == "long" else -1
    events = sorted(
        (ts, i, order.order_id, price)
        for i, order in enumerate(stops)
        for ts, price in order.levels
    )
    if not events:
        return StopMoves(None, None, None, (), "no_stop", None, None, None)
    first = events[0]
    moves: list[StopMove] = []
    level = first[3]
    for ts, _i, order_id, price in events[1:]:
        if price != level:
            moves.append(StopMove(ts, order_id, level, price, (price - level) * sign > 0))
            level = price

    def result(
        verdict: str,
        effect: Decimal | None = None,
        counterfactual: Decimal | None = None,
        reached: bool | None = None,
    ) -> StopMoves:
        return StopMoves(
            first[3], first[2], level, tuple(moves), verdict, effect, counterfactual, reached
        )

    if exit_price is None:
        return result("open")
    if not moves:
        return result("not_moved")
    first_stop = Decimal(str(first[3]))
    distance = (entry_price - first_stop) * sign  # adverse distance to the first stop
    if mae is not None:
        adverse = Decimal(repr(mae))
    else:
        adverse = max(Decimal(0), (entry_price - exit_price) * sign)
    if adverse >= distance:
        counterfactual = (first_stop - entry_price) * sign * qty * Decimal(str(multiplier))
        counterfactual = counterfactual.quantize(_QUANTUM)
        effect = gross_pnl - counterfactual
        verdict = "helped" if effect > 0 else "hurt" if effect < 0 else "no_effect"
        return result(verdict, effect, counterfactual, True)
    if exit_orders & {order.order_id for order in stops}:
        return result("unknown", reached=False)
    return result("no_effect", Decimal(0).quantize(_QUANTUM), gross_pnl, False)
