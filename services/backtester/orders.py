"""Orders, their status changes and their fills: plain records, no behaviour beyond checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    GTC = "gtc"  # good till cancelled
    DAY = "day"  # until the end of the UTC day it was submitted on
    GTD = "gtd"  # until `expire_ts`
    IOC = "ioc"  # its first second only; what does not fill then is cancelled
    FOK = "fok"  # all in its first second, or nothing


class Status(StrEnum):
    NEW = "new"
    WORKING = "working"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


FINAL = frozenset({Status.FILLED, Status.CANCELLED, Status.REJECTED, Status.EXPIRED})


@dataclass(frozen=True)
class OrderRequest:
    """What a strategy asks for. Prices are absolute; `stop_loss`/`take_profit` make a bracket.

    A bracket: when the order fills (or partly fills), a stop order at `stop_loss`
    and a limit order at `take_profit` on the other side, for the filled quantity,
    start working from the next second; one cancels the other.
    """

    side: Side
    qty: float
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    tif: TimeInForce = TimeInForce.GTC
    expire_ts: int | None = None  # epoch ns, for GTD
    stop_loss: float | None = None
    take_profit: float | None = None
    tag: str | None = None


def check_request(request: OrderRequest) -> str | None:
    """Why the request cannot be accepted, or None."""
    if not (request.qty > 0):
        return f"qty must be > 0, got {request.qty}"
    kind = request.order_type
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) and not _positive(request.limit_price):
        return f"a {kind} order needs limit_price > 0, got {request.limit_price}"
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT) and not _positive(request.stop_price):
        return f"a {kind} order needs stop_price > 0, got {request.stop_price}"
    if request.tif is TimeInForce.GTD and request.expire_ts is None:
        return "a GTD order needs expire_ts"
    for name in ("stop_loss", "take_profit"):
        value = getattr(request, name)
        if value is not None and not _positive(value):
            return f"{name} must be > 0, got {value}"
    if request.stop_loss is not None and request.take_profit is not None:
        low, high = sorted((request.stop_loss, request.take_profit))
        expected_low = request.stop_loss if request.side is Side.BUY else request.take_profit
        if low != expected_low or low == high:
            return (
                f"a {request.side} bracket needs stop_loss on the losing side of take_profit, "
                f"got stop_loss={request.stop_loss} take_profit={request.take_profit}"
            )
    return None


def _positive(value: float | None) -> bool:
    return value is not None and value > 0 and value != float("inf")


@dataclass
class Order:
    """A working (or finished) order inside the matching engine."""

    seq: int
    order_id: str
    side: Side
    order_type: OrderType
    qty: float
    limit_price: float | None
    stop_price: float | None
    tif: TimeInForce
    expire_ts: int | None
    submitted_ts: int
    active_from: int  # index of the first second it may trade in
    window_end: int | None = None  # IOC/FOK: it may trade only before this second
    parent_id: str | None = None
    oco_group: str | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    tag: str | None = None
    status: Status = Status.NEW
    filled_qty: float = 0.0
    fill_notional: float = 0.0
    triggered: bool = False  # a stop-limit whose stop was hit: it now works as a limit
    updates: int = 0
    children: list[Order] = field(default_factory=list)

    @property
    def remaining(self) -> float:
        return self.qty - self.filled_qty

    @property
    def avg_fill_price(self) -> float | None:
        return self.fill_notional / self.filled_qty if self.filled_qty else None

    @property
    def effective_type(self) -> OrderType:
        """How it trades now: a triggered stop is a market order, a triggered stop-limit a limit."""
        if not self.triggered:
            return self.order_type
        if self.order_type is OrderType.STOP:
            return OrderType.MARKET
        if self.order_type is OrderType.STOP_LIMIT:
            return OrderType.LIMIT
        return self.order_type

    @property
    def is_stop_like(self) -> bool:
        """Waiting for its stop price: a stop or stop-limit not yet triggered."""
        return self.effective_type in (OrderType.STOP, OrderType.STOP_LIMIT)


@dataclass(frozen=True)
class OrderUpdate:
    """An order's state right after one status change (or amendment)."""

    id: str  # unique per update: order_id:n
    order_id: str
    ts: int
    side: Side
    order_type: OrderType
    qty: float
    status: Status
    limit_price: float | None
    stop_price: float | None
    tif: TimeInForce
    parent_id: str | None
    filled_qty: float
    avg_fill_price: float | None
    reason: str | None
    tag: str | None


@dataclass(frozen=True)
class Execution:
    """A fill: `index` is the 1-second bar it happened in."""

    id: str
    order_id: str
    ts: int
    index: int
    side: Side
    qty: float
    price: float
    commission: float
    tag: str | None


def snapshot(order: Order, ts: int, reason: str | None = None) -> OrderUpdate:
    order.updates += 1
    return OrderUpdate(
        id=f"{order.order_id}:{order.updates}",
        order_id=order.order_id,
        ts=ts,
        side=order.side,
        order_type=order.order_type,
        qty=order.qty,
        status=order.status,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        tif=order.tif,
        parent_id=order.parent_id,
        filled_qty=order.filled_qty,
        avg_fill_price=order.avg_fill_price,
        reason=reason,
        tag=order.tag,
    )
