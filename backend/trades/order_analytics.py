"""What each order cost and how it was worked, from its stored history. Pure.

Per order (its `order_event` history in (ts, arrival) order, and the fills that name it):

- **Slippage against the order's price**: limit orders against their limit price, stop
  and stop-limit orders against their stop (trigger) price, each fill against the price
  working when it filled (the latest event at or before the fill that carried one: a
  modified order is judged by its new price). Market orders have none.
- **Slippage against the last close**: each fill against the close of the last bar that
  had closed when the order was placed (`bar.ts + timeframe <= placed_ts`, finest stored
  timeframe); any order type.
- Both are signed so that positive is worse for the trader: a buy above, a sell below
  the reference. Per unit (price), in money (× the instrument multiplier) and in ticks
  (÷ the tick size, when the instrument has one). Amounts are exact: prices and
  quantities become integers of 1e-8 (`units`), sums are integer, and each result is one
  half-even rounding to 1e-8 (ticks to 1e-4).
- **Latency**: first fill − placement (the order's first event), and last fill −
  placement, in seconds.
- **Modifications**: events after the first, before the order finished, that change its
  quantity, limit price or stop price. **Cancelled**: any event with status `cancelled`.

Stop moves over a trade's life (`stop_moves`) are in `backend/trades/stop_moves.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from backend.ingest.domain import FINISHED_STATUSES
from backend.trades.reconstruct import SCALE, _half_even, units

NS_PER_SECOND = 1_000_000_000
_TICK_PLACES = 10**4


@dataclass(frozen=True)
class OrderEventRecord:
    """One stored order event (a full snapshot of the order at `ts`)."""

    ts: int
    seq: int  # arrival order (the event row's id)
    status: str
    qty: float
    limit_price: float | None
    stop_price: float | None


@dataclass(frozen=True)
class OrderRecord:
    order_id: str
    symbol: str
    side: str  # "buy" or "sell"
    order_type: str  # market, limit, stop, stop_limit
    parent_id: str | None
    events: tuple[OrderEventRecord, ...]  # sorted by (ts, seq); at least one


@dataclass(frozen=True)
class FillRecord:
    seq: int  # the execution's id (arrival order)
    exec_id: str
    ts: int
    qty: float
    price: float


@dataclass(frozen=True)
class Instrument:
    multiplier: float = 1.0
    tick_size: float | None = None


@dataclass(frozen=True)
class Closes:
    """The finest stored bars of a symbol: open times (sorted) and closes."""

    ts: npt.NDArray[np.int64]
    close: npt.NDArray[np.float64]
    timeframe_s: int

    def last_closed_before(self, ts: int) -> tuple[int, float] | None:
        """(open time, close) of the last bar that had closed at `ts`, or None."""
        i = int(np.searchsorted(self.ts, ts - self.timeframe_s * NS_PER_SECOND, side="right"))
        return None if i == 0 else (int(self.ts[i - 1]), float(self.close[i - 1]))


@dataclass(frozen=True)
class Slippage:
    """Slippage of an order's fills against one reference; positive = worse for the trader."""

    reference: Decimal  # the reference price (the qty-weighted one when it changed)
    price: Decimal  # per unit filled, qty-weighted, rounded half-even to 1e-8
    amount: Decimal  # in money: Σ (fill - reference) × qty × multiplier (signed), to 1e-8
    ticks: Decimal | None  # price / tick size, to 1e-4; None without a tick size
    qty: Decimal  # the quantity it covers
    units_sum: int  # Σ signed (fill - reference) × qty, in 1e-16: for exact aggregates


@dataclass(frozen=True)
class TimelineStep:
    """One entry of an order's timeline: an event of its history or a fill."""

    ts: int
    # placed, modified, status, partially_filled, filled, cancelled, rejected, expired, fill
    kind: str
    status: str | None
    qty: float | None
    limit_price: float | None
    stop_price: float | None
    fill_price: float | None = None
    fill_id: str | None = None
    changes: tuple[str, ...] = ()  # for `modified`: which of qty, limit_price, stop_price


@dataclass(frozen=True)
class OrderAnalysis:
    order_id: str
    symbol: str
    side: str
    order_type: str
    parent_id: str | None
    status: str  # the latest event's
    placed_ts: int
    finished_ts: int | None
    qty: float  # the latest event's
    filled_qty: Decimal  # from the fills
    avg_fill_price: Decimal | None  # qty-weighted, to 1e-8
    first_fill_ts: int | None
    last_fill_ts: int | None
    latency_seconds: float | None  # first fill - placed
    full_latency_seconds: float | None  # last fill - placed
    modifications: int
    cancelled: bool
    vs_order: Slippage | None  # None: a market order, or no fill
    vs_close: Slippage | None  # None: no fill, or no bar closed before placement
    close_ref_ts: int | None  # open time of the bar whose close is the reference
    timeline: tuple[TimelineStep, ...]


def _working_prices(
    events: Sequence[OrderEventRecord],
) -> list[tuple[int, float | None, float | None, float]]:
    """(ts, limit, stop, qty) after each event, prices carried from the latest event that
    had one (a status-only update does not erase them)."""
    out: list[tuple[int, float | None, float | None, float]] = []
    limit: float | None = None
    stop: float | None = None
    for event in events:
        limit = event.limit_price if event.limit_price is not None else limit
        stop = event.stop_price if event.stop_price is not None else stop
        out.append((event.ts, limit, stop, event.qty))
    return out


def _price_at(
    states: Sequence[tuple[int, float | None, float | None, float]], ts: int, which: int
) -> float | None:
    """The limit (which=1) or stop (which=2) price working at `ts`: the state after the
    latest event at or before it, else the first one that had a price (a fill reported
    before its order event)."""
    before = [state[which] for state in states if state[0] <= ts and state[which] is not None]
    if before:
        return before[-1]
    return next((state[which] for state in states if state[which] is not None), None)


def slippage(
    side: str,
    fills: Sequence[tuple[float, float, float]],
    instrument: Instrument,
) -> Slippage | None:
    """Slippage of fills given as (qty, price, reference price); positive = worse."""
    if not fills:
        return None
    sign = 1 if side == "buy" else -1
    qty_units = 0
    signed = 0  # Σ sign × (price - reference) × qty, 1e-16 units
    reference_notional = 0
    for qty, price, reference in fills:
        q = units(qty)
        qty_units += q
        signed += sign * (units(price) - units(reference)) * q
        reference_notional += units(reference) * q
    multiplier = units(instrument.multiplier)
    price = _half_even(signed, qty_units)  # 1e-8 units per unit filled
    amount = _half_even(signed * multiplier, SCALE * SCALE)  # 1e-8 units of money
    ticks = None
    if instrument.tick_size:
        ticks = Decimal(_half_even(signed * _TICK_PLACES, qty_units * units(instrument.tick_size)))
        ticks = ticks.scaleb(-4)
    return Slippage(
        reference=Decimal(_half_even(reference_notional, qty_units)).scaleb(-8),
        price=Decimal(price).scaleb(-8),
        amount=Decimal(amount).scaleb(-8),
        ticks=ticks,
        qty=Decimal(qty_units).scaleb(-8),
        units_sum=signed,
    )


def analyse_order(
    order: OrderRecord,
    fills: Sequence[FillRecord],
    instrument: Instrument,
    closes: Closes | None,
) -> OrderAnalysis:
    """Everything `order_analytics` says about one order; `fills` in (ts, seq) order."""
    if not order.events:
        raise ValueError(f"order {order.order_id}: needs at least one event, got none")
    events = order.events
    states = _working_prices(events)
    placed = events[0].ts
    finished = next((e.ts for e in events if e.status in FINISHED_STATUSES), None)

    timeline: list[TimelineStep] = []
    modifications = 0
    for i, (event, state) in enumerate(zip(events, states, strict=True)):
        changes: tuple[str, ...] = ()
        if i == 0:
            kind = "placed"
        else:
            before = states[i - 1]
            changes = tuple(
                name
                for name, old, new in (
                    ("qty", before[3], state[3]),
                    ("limit_price", before[1], state[1]),
                    ("stop_price", before[2], state[2]),
                )
                if old != new
            )
            was_finished = finished is not None and finished < event.ts
            if event.status in FINISHED_STATUSES or event.status == "partially_filled":
                kind = event.status
            elif changes and not was_finished:
                kind = "modified"
            else:
                kind = "status"
            if changes and not was_finished and event.status not in FINISHED_STATUSES:
                modifications += 1
        timeline.append(
            TimelineStep(
                event.ts, kind, event.status, state[3], state[1], state[2], changes=changes
            )
        )
    for fill in fills:
        timeline.append(
            TimelineStep(
                fill.ts,
                "fill",
                None,
                fill.qty,
                None,
                None,
                fill_price=fill.price,
                fill_id=fill.exec_id,
            )
        )
    # at one time: the placement, then the fills, then the status they led to
    timeline.sort(key=lambda step: (step.ts, {"placed": 0, "fill": 1}.get(step.kind, 2)))

    which = {"limit": 1, "stop": 2, "stop_limit": 2}.get(order.order_type)
    vs_order = None
    if which is not None:
        priced = [(f.qty, f.price, _price_at(states, f.ts, which)) for f in fills]
        if priced and all(ref is not None for _q, _p, ref in priced):
            vs_order = slippage(
                order.side, [(q, p, r) for q, p, r in priced if r is not None], instrument
            )
    ref = closes.last_closed_before(placed) if closes is not None else None
    vs_close = (
        slippage(order.side, [(f.qty, f.price, ref[1]) for f in fills], instrument)
        if ref is not None
        else None
    )
    filled = sum(units(f.qty) for f in fills)
    notional = sum(units(f.qty) * units(f.price) for f in fills)
    first_fill = fills[0].ts if fills else None
    last_fill = fills[-1].ts if fills else None
    return OrderAnalysis(
        order_id=order.order_id,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        parent_id=order.parent_id,
        status=events[-1].status,
        placed_ts=placed,
        finished_ts=finished,
        qty=events[-1].qty,
        filled_qty=Decimal(filled).scaleb(-8),
        avg_fill_price=Decimal(_half_even(notional, filled)).scaleb(-8) if filled else None,
        first_fill_ts=first_fill,
        last_fill_ts=last_fill,
        latency_seconds=None if first_fill is None else (first_fill - placed) / NS_PER_SECOND,
        full_latency_seconds=None if last_fill is None else (last_fill - placed) / NS_PER_SECOND,
        modifications=modifications,
        cancelled=any(e.status == "cancelled" for e in events),
        vs_order=vs_order,
        vs_close=vs_close,
        close_ref_ts=None if ref is None else ref[0],
        timeline=tuple(timeline),
    )
