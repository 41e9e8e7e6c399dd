"""Initial risk and R-multiple of a trade. Pure.

The initial stop is the first protective stop that was working when the trade
opened: a `stop` or `stop_limit` order on the opposite side, in the same run and
symbol, that either
- is linked to the trade's entry order (`parent_id` = the entry fill's order), or
- was placed no later than `PLACEMENT_GRACE_NS` after the entry (bracket legs are
  often submitted the moment the entry fills) and was not finished before it.
Among those, the earliest placed wins, and its first stop price counts (a stop
trailed later does not change the initial risk).

initial risk = |average entry price - initial stop| x qty x multiplier.
Without such a stop, the instrument's `default_risk` (a price distance set by the
user) stands in for |entry - stop|. Without either, R is None: never invented.
R-multiple = net PnL / initial risk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

PLACEMENT_GRACE_NS = 1_000_000_000
FINISHED = {"filled", "cancelled", "rejected", "expired"}


@dataclass(frozen=True)
class StopOrder:
    order_id: str
    side: str
    order_type: str
    parent_id: str | None
    placed_ts: int  # first event
    finished_ts: int | None  # first event with a finished status
    first_stop_price: float | None


def initial_stop(
    direction: str, entry_ts: int, entry_order_id: str | None, orders: Sequence[StopOrder]
) -> float | None:
    exit_side = "sell" if direction == "long" else "buy"
    candidates = [
        order
        for order in orders
        if order.side == exit_side
        and order.order_type in ("stop", "stop_limit")
        and order.first_stop_price is not None
        and (
            (entry_order_id is not None and order.parent_id == entry_order_id)
            or (
                order.placed_ts <= entry_ts + PLACEMENT_GRACE_NS
                and (order.finished_ts is None or order.finished_ts > entry_ts)
            )
        )
    ]
    if not candidates:
        return None
    first = min(candidates, key=lambda order: order.placed_ts)
    return first.first_stop_price


def initial_risk(
    entry_price: Decimal,
    qty: Decimal,
    multiplier: float,
    stop_price: float | None,
    default_distance: float | None,
) -> Decimal | None:
    if stop_price is not None:
        distance = abs(entry_price - Decimal(str(stop_price)))
    elif default_distance is not None:
        distance = Decimal(str(default_distance))
    else:
        return None
    risk = distance * qty * Decimal(str(multiplier))
    return risk.quantize(Decimal("0.00000001")) if risk > 0 else None


def r_multiple(net_pnl: Decimal, risk: Decimal | None) -> float | None:
    return None if risk is None or risk == 0 else float(net_pnl / risk)
