"""Totals of a filtered set of trades (pure: no web framework, no ORM).

Money arrives as integers of 1e-8 (the database rounds each stored amount), so every
sum is exact; the one division (the average) is rounded half-even to 1e-8.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any


@dataclass(frozen=True)
class Totals:
    trade_count: int
    open_count: int
    closed_count: int
    win_count: int
    loss_count: int
    breakeven_count: int
    net_pnl: Decimal  # closed trades
    gross_pnl: Decimal  # closed trades
    commission: Decimal  # closed trades
    gross_profit: Decimal  # sum of the winners' net P&L
    gross_loss: Decimal  # sum of the losers' net P&L (negative or zero)
    win_rate: float | None  # wins / closed
    average_net_pnl: Decimal | None  # net / closed
    profit_factor: float | None  # gross profit / -gross loss; None without losers
    r_count: int
    average_r: float | None  # mean R of the closed trades that have one


def totals(rows: Iterable[tuple[Any, int, int, int, float | None]]) -> Totals:
    """Totals of (is_open, net units, gross units, commission units, R) rows."""
    count = open_count = wins = losses = even = r_count = 0
    net = gross = commission = profit = loss = 0
    r_sum = 0.0
    for is_open, net_units, gross_units, commission_units, r_multiple in rows:
        count += 1
        if is_open:
            open_count += 1
            continue
        net += net_units
        gross += gross_units
        commission += commission_units
        if net_units > 0:
            wins, profit = wins + 1, profit + net_units
        elif net_units < 0:
            losses, loss = losses + 1, loss + net_units
        else:
            even += 1
        if r_multiple is not None:
            r_count, r_sum = r_count + 1, r_sum + r_multiple
    closed = count - open_count
    return Totals(
        trade_count=count, open_count=open_count, closed_count=closed, win_count=wins,
        loss_count=losses, breakeven_count=even, net_pnl=_money(net), gross_pnl=_money(gross),
        commission=_money(commission), gross_profit=_money(profit), gross_loss=_money(loss),
        win_rate=wins / closed if closed else None,
        average_net_pnl=(
            (Decimal(net) / closed).quantize(Decimal(1), ROUND_HALF_EVEN).scaleb(-8)
            if closed else None
        ),
        profit_factor=profit / -loss if loss else None,
        r_count=r_count, average_r=r_sum / r_count if r_count else None,
    )  # fmt: skip


def _money(units: int) -> Decimal:
    return Decimal(units).scaleb(-8)
