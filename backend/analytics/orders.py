"""Order metrics over a run's orders and their breakdowns. Pure.

One registered definition per metric (name, label, unit, formula, description), served
by GET /api/metrics/definitions?scope=orders. The inputs are
`order_analytics.OrderAnalysis` records; sums of money are the sums of the per-order
amounts (each exact to 1e-8), so a run's total equals its orders' rows added up.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from backend.analytics.breakdowns import NS_PER_HOUR, local_ns
from backend.trades.order_analytics import OrderAnalysis, Slippage
from backend.trades.reconstruct import units

ORDER_DIMENSIONS = ("order_type", "side", "symbol", "hour")


@dataclass(frozen=True)
class OrderMetricDef:
    name: str
    unit: str
    formula: str
    label: str
    description: str


ORDER_METRICS: dict[str, OrderMetricDef] = {}


def _define(name: str, unit: str, formula: str, *, label: str, description: str) -> None:
    if name in ORDER_METRICS:
        raise ValueError(f"order metric {name!r} is defined twice")
    ORDER_METRICS[name] = OrderMetricDef(name, unit, formula, label, description)


_define(
    "order_count",
    "count",
    "orders with a stored history",
    label="Orders",
    description="Orders the run sent (each with at least one order event).",
)
_define(
    "filled_order_count",
    "count",
    "orders with at least one fill",
    label="Filled orders",
    description="Orders that were filled, wholly or in part.",
)
_define(
    "cancel_rate",
    "fraction",
    "cancelled orders / orders",
    label="Cancelled",
    description="Share of orders cancelled (after a partial fill too).",
)
_define(
    "modify_rate",
    "fraction",
    "orders modified at least once / orders",
    label="Modified",
    description="Share of orders whose qty, limit or stop price was changed while they worked.",
)
_define(
    "modifications_per_order",
    "ratio",
    "modifications / orders",
    label="Modifications per order",
    description="How often, on average, a working order was changed.",
)
_define(
    "fill_latency_mean",
    "seconds",
    "mean of (first fill - placement) over filled orders",
    label="Order-to-fill latency (mean)",
    description="How long orders waited for their first fill, on average.",
)
_define(
    "fill_latency_median",
    "seconds",
    "median of (first fill - placement)",
    label="Order-to-fill latency (median)",
    description="The typical wait for a first fill, unmoved by a few stale orders.",
)
_define(
    "slippage_order_amount",
    "currency",
    "sum over filled limit/stop orders of (fill - order price) x qty x multiplier "
    "(negated for sells)",
    label="Slippage vs order price",
    description="What fills cost against the limit or stop price working when they "
    "filled; positive is worse, negative is price improvement.",
)
_define(
    "slippage_order_ticks",
    "ticks",
    "sum of (fill - order price) / tick x qty / sum of qty (negated for sells)",
    label="Slippage vs order price (ticks)",
    description="The same per unit filled, in ticks (instruments with a tick size).",
)
_define(
    "slippage_close_amount",
    "currency",
    "sum over filled orders of (fill - last close at placement) x qty x multiplier "
    "(negated for sells)",
    label="Slippage vs last close",
    description="What fills cost against the close of the last bar closed when the "
    "order was placed; positive is worse.",
)
_define(
    "slippage_close_ticks",
    "ticks",
    "sum of (fill - last close) / tick x qty / sum of qty (negated for sells)",
    label="Slippage vs last close (ticks)",
    description="The same per unit filled, in ticks (instruments with a tick size).",
)
_define(
    "stop_moved_trades",
    "count",
    "closed trades whose protective stop changed level",
    label="Trades with a moved stop",
    description="Closed trades whose stop was trailed, tightened or widened.",
)
_define(
    "stop_move_effect",
    "currency",
    "sum over those trades of gross P&L - gross P&L had the first stop stayed "
    '(known effects only: docs/trades.md, "Stop moves")',
    label="Effect of moving stops",
    description="What moving the stop earned (positive) or cost (negative) against "
    "leaving the first stop where it was.",
)


def describe_orders() -> list[dict[str, Any]]:
    """The order metric set, shaped like metrics.describe()'s rows."""
    return [
        {
            "name": m.name,
            "label": m.label,
            "unit": m.unit,
            "formula": m.formula,
            "description": m.description,
            "annualised": False,
        }
        for m in ORDER_METRICS.values()
    ]


def _money(slips: Sequence[Slippage]) -> float | None:
    if not slips:
        return None
    return float(sum((s.amount for s in slips), Decimal(0)))


def _ticks(pairs: Sequence[tuple[Slippage, float | None]]) -> float | None:
    """Σ ticks × qty / Σ qty, exactly (Fractions of the 1e-8 integers), to 1e-4."""
    total, qty = Fraction(0), 0
    for slip, tick in pairs:
        if tick:
            total += Fraction(slip.units_sum, units(tick))
            qty += units(float(slip.qty))
    if qty == 0:
        return None
    return round(float(round(total / qty, 4)), 4)


def order_metrics(
    orders: Sequence[OrderAnalysis], ticks: Callable[[str], float | None]
) -> dict[str, Any]:
    """The order metrics (ORDER_METRICS but the stop ones) of `orders`; `ticks(symbol)`
    gives an instrument's tick size."""
    count = len(orders)
    filled = [o for o in orders if o.filled_qty > 0]
    latencies = [o.latency_seconds for o in filled if o.latency_seconds is not None]
    vs_order = [(o.vs_order, ticks(o.symbol)) for o in orders if o.vs_order is not None]
    vs_close = [(o.vs_close, ticks(o.symbol)) for o in orders if o.vs_close is not None]

    def share(n: int) -> float | None:
        return n / count if count else None

    return {
        "order_count": count,
        "filled_order_count": len(filled),
        "cancel_rate": share(sum(o.cancelled for o in orders)),
        "modify_rate": share(sum(o.modifications > 0 for o in orders)),
        "modifications_per_order": share(sum(o.modifications for o in orders)),
        "fill_latency_mean": statistics.fmean(latencies) if latencies else None,
        "fill_latency_median": statistics.median(latencies) if latencies else None,
        "slippage_order_amount": _money([s for s, _t in vs_order]),
        "slippage_order_ticks": _ticks(vs_order),
        "slippage_close_amount": _money([s for s, _t in vs_close]),
        "slippage_close_ticks": _ticks(vs_close),
    }


def order_groups(
    orders: Sequence[OrderAnalysis], by: str, zone: ZoneInfo
) -> dict[str, list[OrderAnalysis]]:
    """Orders per order type, side, symbol or local hour of placement (`00`-`23`), sorted."""
    if by not in ORDER_DIMENSIONS:
        raise ValueError(f"by: must be one of {', '.join(ORDER_DIMENSIONS)}, got {by!r}")
    keys: list[str]
    if by == "hour":
        placed = np.array([o.placed_ts for o in orders], dtype=np.int64)
        hours = (local_ns(placed, zone) // NS_PER_HOUR) % 24 if len(orders) else placed
        keys = [f"{int(h):02d}" for h in hours.tolist()]
    else:
        keys = [str(getattr(o, by)) for o in orders]
    found: dict[str, list[OrderAnalysis]] = {}
    for key, order in zip(keys, orders, strict=True):
        found.setdefault(key, []).append(order)
    return {key: found[key] for key in sorted(found)}
