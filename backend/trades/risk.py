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

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from backend.ingest.domain import FINISHED_STATUSES

PLACEMENT_GRACE_NS = 1_000_000_000
FINISHED = FINISHED_STATUSES


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
    order = initial_stop_order(direction, entry_ts, entry_order_id, orders)
    return None if order is None else order.first_stop_price


def initial_stop_order(
    direction: str, entry_ts: int, entry_order_id: str | None, orders: Sequence[StopOrder]
) -> StopOrder | None:
    """The order whose first stop price is the trade's initial stop (module docstring)."""
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
    return min(candidates, key=lambda order: order.placed_ts)


def initial_stops(
    entries: Sequence[tuple[str, int, str | None]], orders: Sequence[StopOrder]
) -> list[float | None]:
    """`initial_stop` of each (direction, entry_ts, entry_order_id) (`initial_stop_orders`)."""
    return [None if o is None else o.first_stop_price for o in initial_stop_orders(entries, orders)]


def initial_stop_orders(
    entries: Sequence[tuple[str, int, str | None]], orders: Sequence[StopOrder]
) -> list[StopOrder | None]:
    """`initial_stop_order` of each (direction, entry_ts, entry_order_id), in
    O((trades + orders) log orders) rather than trades x orders: by side, the stops placed by
    each entry's time (+ grace) wait in a heap by placement, and one finished by then is gone
    for every later entry too. Ties in placement go to the earlier order in `orders`, as
    `min` in `initial_stop` does."""
    found: list[StopOrder | None] = [None] * len(entries)
    for exit_side, direction in (("sell", "long"), ("buy", "short")):
        stops = [
            (o.placed_ts, i, o)
            for i, o in enumerate(orders)
            if o.side == exit_side
            and o.order_type in ("stop", "stop_limit")
            and o.first_stop_price is not None
        ]
        if not stops:
            continue
        by_parent: dict[str, tuple[int, int, StopOrder]] = {}
        for stop in stops:
            parent = stop[2].parent_id
            if parent is not None and (parent not in by_parent or stop[:2] < by_parent[parent][:2]):
                by_parent[parent] = stop
        stops.sort(key=itemgetter(0, 1))  # (placed, position): unique
        mine = sorted(
            (entry_ts, k) for k, (d, entry_ts, _order) in enumerate(entries) if d == direction
        )
        waiting: list[tuple[int, int, StopOrder]] = []
        placed = 0
        for entry_ts, k in mine:
            while placed < len(stops) and stops[placed][0] <= entry_ts + PLACEMENT_GRACE_NS:
                heapq.heappush(waiting, stops[placed])
                placed += 1
            while waiting and (done := waiting[0][2].finished_ts) is not None and done <= entry_ts:
                heapq.heappop(waiting)
            best = waiting[0] if waiting else None
            order_id = entries[k][2]
            linked = by_parent.get(order_id) if order_id is not None else None
            if linked is not None and (best is None or linked[:2] < best[:2]):
                best = linked
            found[k] = None if best is None else best[2]
    return found


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
