"""The matching engine: working orders trade against 1-second bars. Pure: arrays in, events out.

The rules (docs/backtester.md has them with examples):

- An order works from `active_from`, the first second after it was submitted
  (a strategy submits at a candle's close, so from the next candle's first second;
  a bracket leg from the second after its entry filled).
- For each order, the first second it can trade in is found with one vectorised
  search over the seconds (`argmax` of a boolean mask), never a loop per second.
- Fill prices, for a buy (a sell mirrors them):
  market: the second's open + slippage;
  limit L: trades when low <= L (`limit_fill="through"`: low < L), at min(open, L),
  so a second that opens below L fills at its open (a gap is a better price);
  stop S: triggers when high >= S, fills at max(open, S) + slippage, so a stop
  gapped through fills at the open;
  stop-limit S/L: triggers like a stop; it fills in that second at max(open, S)
  if that is <= L, otherwise it becomes a limit L working from the next second.
- Slippage is `slippage_ticks` x tick size, always against the trader, for
  market and stop fills (limit prices are never worse than the limit).
- Commission = qty x `commission_per_contract` + price x qty x multiplier x
  `commission_rate`.
- Several orders that can trade in the same second go in this order:
  `both_touched="pessimistic"` (default): stops before limits, so a second that
  touches a bracket's stop and its target fills the stop; `"optimistic"`:
  limits first; `"nearest"`: the level closer to the second's open first.
  Ties after that go by submission order.
- `volume_participation` (None: unlimited) limits each fill to
  floor(volume x participation) contracts of its second; the rest keeps working
  (partially filled) in later seconds where the order can still trade.
  Each order is limited on its own (orders do not share a second's volume).
- Time in force: GTC works until cancelled; DAY until the end of the UTC day of
  submission; GTD until `expire_ts`: seconds at or after the expiry are not
  searched and the order expires at `expire_ts`; IOC trades only in its first
  second and the rest is cancelled; FOK fills all of it in its first second or
  is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from services.backtester.data import Seconds
from services.backtester.orders import (
    Execution,
    Order,
    OrderRequest,
    OrderType,
    OrderUpdate,
    Side,
    Status,
    TimeInForce,
    check_request,
    snapshot,
)

NS_PER_DAY = 86_400 * 1_000_000_000
BothTouched = Literal["pessimistic", "optimistic", "nearest"]
LimitFill = Literal["touch", "through"]
Event = OrderUpdate | Execution
Listener = Callable[[Event], None]


@dataclass(frozen=True)
class FillRules:
    """How orders fill: costs, and the choices the 1-second data cannot settle."""

    tick_size: float = 0.01
    multiplier: float = 1.0
    slippage_ticks: float = 0.0
    commission_per_contract: float = 0.0
    commission_rate: float = 0.0
    both_touched: BothTouched = "pessimistic"
    limit_fill: LimitFill = "touch"
    volume_participation: float | None = None

    def __post_init__(self) -> None:
        if not self.tick_size > 0:
            raise ValueError(f"tick_size must be > 0, got {self.tick_size}")
        if self.slippage_ticks < 0:
            raise ValueError(f"slippage_ticks must be >= 0, got {self.slippage_ticks}")
        if self.commission_per_contract < 0 or self.commission_rate < 0:
            raise ValueError(
                "commissions must be >= 0, got "
                f"per_contract={self.commission_per_contract} rate={self.commission_rate}"
            )
        if self.both_touched not in ("pessimistic", "optimistic", "nearest"):
            raise ValueError(
                "both_touched must be pessimistic, optimistic or nearest, "
                f"got {self.both_touched!r}"
            )
        if self.limit_fill not in ("touch", "through"):
            raise ValueError(f"limit_fill must be touch or through, got {self.limit_fill!r}")
        if self.volume_participation is not None and not 0 < self.volume_participation <= 1:
            raise ValueError(
                f"volume_participation must be in (0, 1], got {self.volume_participation}"
            )

    def commission(self, qty: float, price: float) -> float:
        fee = qty * self.commission_per_contract
        fee += price * qty * self.multiplier * self.commission_rate
        return round(fee, 8)


@dataclass(frozen=True)
class Hit:
    index: int
    price: float
    trigger_only: bool = False  # a stop-limit's stop was hit but its limit was not reached


class Matcher:
    """Working orders over one instrument's 1-second bars; `listener` receives every event."""

    def __init__(self, seconds: Seconds, rules: FillRules, listener: Listener) -> None:
        self.seconds = seconds
        self.rules = rules
        self.listener = listener
        self.working: dict[str, Order] = {}
        self.orders: dict[str, Order] = {}
        self._seq = 0
        self._fills = 0
        self._cap: np.ndarray | None = None
        if rules.volume_participation is not None:
            self._cap = np.floor(seconds.volume * rules.volume_participation + 1e-9)

    # -- requests --------------------------------------------------------------------

    def submit(self, request: OrderRequest, ts: int, active_from: int) -> Order:
        """Accept (or reject) an order at `ts`; it may trade from second `active_from`."""
        self._seq += 1
        tif = request.tif
        expire_ts = request.expire_ts
        if tif is TimeInForce.DAY:
            expire_ts = (ts // NS_PER_DAY + 1) * NS_PER_DAY
        order = Order(
            seq=self._seq,
            order_id=f"o-{self._seq}",
            side=request.side,
            order_type=request.order_type,
            qty=float(request.qty),
            limit_price=self._price(request.limit_price),
            stop_price=self._price(request.stop_price),
            tif=tif,
            expire_ts=expire_ts,
            submitted_ts=ts,
            active_from=active_from,
            stop_loss=self._price(request.stop_loss),
            take_profit=self._price(request.take_profit),
            tag=request.tag,
        )
        if tif in (TimeInForce.IOC, TimeInForce.FOK):
            order.window_end = active_from + 1
        self.orders[order.order_id] = order
        self._emit(snapshot(order, ts))
        problem = check_request(request)
        if problem is None and expire_ts is not None and expire_ts <= ts:
            problem = f"expire_ts {expire_ts} is not after the submission time {ts}"
        if problem is not None:
            order.status = Status.REJECTED
            self._emit(snapshot(order, ts, problem))
            return order
        self._work(order, ts)
        return order

    def cancel(self, order_id: str, ts: int, reason: str = "cancelled by the strategy") -> bool:
        """Cancel a working order; False when it is not working."""
        order = self.working.pop(order_id, None)
        if order is None:
            return False
        order.status = Status.CANCELLED
        self._emit(snapshot(order, ts, reason))
        return True

    def _work(self, order: Order, ts: int) -> None:
        order.status = Status.WORKING
        self.working[order.order_id] = order
        self._emit(snapshot(order, ts))

    # -- matching --------------------------------------------------------------------

    def advance(self, lo: int, hi: int, until_ts: int) -> None:
        """Let working orders trade in seconds [lo, hi); expire what ends by `until_ts`."""
        found: dict[int, Hit | None] = {}
        while True:
            best: tuple[tuple[int, float, int], Order, Hit] | None = None
            for order in list(self.working.values()):
                if order.seq not in found:
                    found[order.seq] = self._first_hit(order, lo, hi)
                hit = found[order.seq]
                if hit is None:
                    continue
                key = (hit.index, self._rank(order, hit.index), order.seq)
                if best is None or key < best[0]:
                    best = (key, order, hit)
            if best is None:
                break
            _key, order, hit = best
            del found[order.seq]  # searched again, after this second, if it keeps working
            if hit.trigger_only:
                order.triggered = True
                order.active_from = hit.index + 1
                self._emit(snapshot(order, int(self.seconds.ts[hit.index]), "stop triggered"))
            else:
                self._fill(order, hit)
        self._end_window(hi, until_ts)

    def _end_window(self, hi: int, until_ts: int) -> None:
        for order in list(self.working.values()):
            if order.window_end is not None and order.window_end <= hi:
                self.cancel(
                    order.order_id,
                    int(self.seconds.ts[order.window_end - 1]),
                    f"{order.tif.upper()}: not filled in its first second",
                )
            elif order.expire_ts is not None and order.expire_ts <= until_ts:
                self.working.pop(order.order_id)
                order.status = Status.EXPIRED
                self._emit(snapshot(order, order.expire_ts, f"{order.tif.upper()} expiry"))

    def _first_hit(self, order: Order, lo: int, hi: int) -> Hit | None:
        seconds = self.seconds
        start = max(lo, order.active_from)
        stop = hi
        if order.window_end is not None:
            stop = min(stop, order.window_end)
        if order.expire_ts is not None:
            stop = min(stop, int(np.searchsorted(seconds.ts, order.expire_ts, side="left")))
        if start >= stop:
            return None
        buy = order.side is Side.BUY
        if order.is_stop_like:
            assert order.stop_price is not None
            level = order.stop_price
            mask = seconds.high[start:stop] >= level if buy else seconds.low[start:stop] <= level
        elif order.effective_type is OrderType.MARKET:
            mask = None
        else:
            assert order.limit_price is not None
            level = order.limit_price
            low, high = seconds.low[start:stop], seconds.high[start:stop]
            if self.rules.limit_fill == "touch":
                mask = low <= level if buy else high >= level
            else:
                mask = low < level if buy else high > level
        need = order.remaining if order.tif is TimeInForce.FOK else 1.0
        if self._cap is not None:
            enough = self._cap[start:stop] >= need
            mask = enough if mask is None else mask & enough
        if mask is None:
            index = start
        else:
            offset = int(np.argmax(mask))
            if not mask[offset]:
                return None
            index = start + offset
        return self._price_at(order, index)

    def _price_at(self, order: Order, index: int) -> Hit:
        opening = float(self.seconds.open[index])
        buy = order.side is Side.BUY
        slip = self.rules.slippage_ticks * self.rules.tick_size * order.side.sign
        if order.effective_type is OrderType.MARKET:
            return Hit(index, opening + slip)
        if order.is_stop_like:
            assert order.stop_price is not None
            touched = max(opening, order.stop_price) if buy else min(opening, order.stop_price)
            if order.order_type is OrderType.STOP:
                return Hit(index, touched + slip)
            assert order.limit_price is not None
            marketable = touched <= order.limit_price if buy else touched >= order.limit_price
            if marketable:
                return Hit(index, touched)
            return Hit(index, touched, trigger_only=True)
        assert order.limit_price is not None
        price = min(opening, order.limit_price) if buy else max(opening, order.limit_price)
        return Hit(index, price)

    def _rank(self, order: Order, index: int) -> float:
        """Order among orders trading in the same second (see `both_touched`)."""
        if order.effective_type is OrderType.MARKET:
            return -1.0
        rule = self.rules.both_touched
        if rule == "nearest":
            level = order.stop_price if order.is_stop_like else order.limit_price
            assert level is not None
            return abs(level - float(self.seconds.open[index]))
        stop_first = rule == "pessimistic"
        return 0.0 if order.is_stop_like == stop_first else 1.0

    def _fill(self, order: Order, hit: Hit) -> None:
        ts = int(self.seconds.ts[hit.index])
        price = round(max(hit.price, self.rules.tick_size), 8)
        # The quantity is taken now, not when the second was found: a bracket leg may have
        # grown, or an OCO sibling shrunk, since.
        qty = order.remaining
        if self._cap is not None:
            qty = min(qty, float(self._cap[hit.index]))
        self._fills += 1
        order.filled_qty += qty
        order.fill_notional += qty * price
        done = order.remaining <= 1e-9
        order.status = Status.FILLED if done else Status.PARTIALLY_FILLED
        if done:
            self.working.pop(order.order_id, None)
        else:  # the rest works on from the next second; a stop's trigger has happened
            order.active_from = hit.index + 1
            order.triggered = order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        self._emit(snapshot(order, ts))
        if order.oco_group is not None:
            self._settle_siblings(order, qty, ts, done)
        if order.stop_loss is not None or order.take_profit is not None:
            self._bracket(order, qty, ts, hit.index + 1)
        # The fill goes out last, so a strategy reacting to it sees the bracket legs working.
        self._emit(
            Execution(
                id=f"x-{self._fills}",
                order_id=order.order_id,
                ts=ts,
                index=hit.index,
                side=order.side,
                qty=qty,
                price=price,
                commission=self.rules.commission(qty, price),
                tag=order.tag,
            )
        )

    def _settle_siblings(self, order: Order, qty: float, ts: int, done: bool) -> None:
        """One cancels the other: a full fill cancels the sibling, a partial one shrinks it."""
        for sibling in list(self.working.values()):
            if sibling.oco_group != order.oco_group or sibling is order:
                continue
            if done or sibling.remaining <= qty + 1e-9:
                self.cancel(sibling.order_id, ts, f"OCO: {order.order_id} filled")
            else:
                sibling.qty -= qty
                self._emit(snapshot(sibling, ts, f"OCO: {order.order_id} partly filled"))

    def _bracket(self, entry: Order, qty: float, ts: int, active_from: int) -> None:
        """Protect the filled quantity: create the stop and target legs, or grow them."""
        live = [child for child in entry.children if child.order_id in self.working]
        if live:
            for child in live:
                child.qty += qty
                self._emit(snapshot(child, ts, f"bracket grows with {entry.order_id}"))
            return
        group = f"{entry.order_id}-oco"
        legs = (
            ("sl", OrderType.STOP, None, entry.stop_loss),
            ("tp", OrderType.LIMIT, entry.take_profit, None),
        )
        for suffix, kind, limit, stop in legs:
            if limit is None and stop is None:
                continue
            self._seq += 1
            child = Order(
                seq=self._seq,
                order_id=f"{entry.order_id}-{suffix}",
                side=entry.side.opposite,
                order_type=kind,
                qty=qty,
                limit_price=limit,
                stop_price=stop,
                tif=TimeInForce.GTC,
                expire_ts=None,
                submitted_ts=ts,
                active_from=active_from,
                parent_id=entry.order_id,
                oco_group=group,
                tag=f"{entry.tag or 'bracket'}:{'stop_loss' if suffix == 'sl' else 'take_profit'}",
            )
            if any(c.order_id == child.order_id for c in entry.children):
                child.order_id = f"{child.order_id}{self._seq}"
            entry.children.append(child)
            self.orders[child.order_id] = child
            self._emit(snapshot(child, ts))
            self._work(child, ts)

    # -- helpers ---------------------------------------------------------------------

    def _price(self, price: float | None) -> float | None:
        """Prices snap to the tick grid (and 8 decimals) so fills carry clean numbers."""
        if price is None or not np.isfinite(price):
            return price
        tick = self.rules.tick_size
        return round(round(price / tick) * tick, 8)

    def _emit(self, event: Event) -> None:
        self.listener(event)
