"""Round-trip trades from fills: flat to flat, per (run, account, symbol). Pure.

The rules are those of docs/ingest.md ("What the service derives"):

- A trade opens when the position leaves zero and closes when it returns to zero.
  Fills that grow the position are its entries, fills that shrink it its exits;
  scale-ins and partial exits stay in the trade.
- A fill that crosses zero is split: the quantity that flattens the position
  closes the trade, the rest opens a new trade in the other direction. Its
  commission is split pro rata to those quantities.
- Entry and exit prices are quantity-weighted averages of the entries and exits.
- Gross PnL of a closed trade = (exit notional - entry notional) x multiplier for
  a long, negated for a short, which is (exit - entry) x qty x multiplier.
  Net PnL = gross PnL - the commissions of the trade's fills (their parts).
- Fills apply in (ts, seq) order: equal times in the order they were ingested.

Money is exact. Prices, quantities and commissions arrive as floats carrying
decimals of at most 8 places; each is turned into an integer count of 1e-8 units
(`round(x * 1e8)`, exact for such values below ~9e7), every sum and product is
then integer arithmetic, and only the results become Decimals: notional has
1e-16 units, PnL is quantised to 1e-8 at the very end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

SCALE = 10**8
SCALE2 = SCALE * SCALE
_QUANTUM = Decimal("0.00000001")
_D_SCALE = Decimal(SCALE)
_D_SCALE2 = Decimal(SCALE2)


class Fill(NamedTuple):
    """A fill as the reconstruction needs it. `seq` is the arrival order (execution id)."""

    seq: int
    ts: int
    side: str  # "buy" or "sell"
    qty: float
    price: float
    commission: float = 0.0


class FillPart(NamedTuple):
    """The part of a fill that belongs to one trade."""

    seq: int
    role: str  # "entry" or "exit"
    qty: Decimal
    commission: Decimal


def units(value: float) -> int:
    """A float with at most 8 decimals as an exact integer count of 1e-8."""
    return round(value * SCALE)


@dataclass
class TradeState:
    """A trade being built; every amount is an integer in 1e-8 (or 1e-16) units."""

    first_seq: int
    direction: int  # +1 long, -1 short
    entry_ts: int
    entry_qty: int = 0
    entry_notional: int = 0  # sum of price x qty, 1e-16 units
    exit_qty: int = 0
    exit_notional: int = 0
    commission: int = 0
    position: int = 0  # signed, 1e-8 units
    max_position: int = 0
    exit_ts: int | None = None
    fills: list[tuple[int, str, int, int]] = field(default_factory=list)

    def add(self, fill: Fill, role: str, qty: int, price: int, commission: int) -> None:
        if role == "entry":
            self.entry_qty += qty
            self.entry_notional += qty * price
            self.position += self.direction * qty
            self.max_position = max(self.max_position, abs(self.position))
        else:
            self.exit_qty += qty
            self.exit_notional += qty * price
            self.position -= self.direction * qty
        self.commission += commission
        self.fills.append((fill.seq, role, qty, commission))


@dataclass(frozen=True)
class TradeResult:
    """A reconstructed trade. Open trades have no exit time; their PnL is realised so far."""

    id: int
    direction: str
    qty: Decimal
    max_position: Decimal
    entry_ts: int
    exit_ts: int | None
    entry_price: Decimal
    exit_price: Decimal | None
    open_qty: Decimal
    gross_pnl: Decimal
    commission: Decimal
    net_pnl: Decimal
    fills: tuple[FillPart, ...]
    # exact sums, for marking open trades and for checks
    entry_notional: Decimal
    exit_notional: Decimal

    @property
    def is_open(self) -> bool:
        return self.exit_ts is None

    def unrealised_pnl(self, mark: float, multiplier: float) -> Decimal:
        """PnL of the open quantity marked at `mark` (the last bar's close)."""
        if self.open_qty == 0:
            return Decimal(0)
        sign = 1 if self.direction == "long" else -1
        cost = self.entry_notional / (self.qty or 1) * self.open_qty
        value = Decimal(units(mark)) / _D_SCALE * self.open_qty
        pnl = (value - cost) * sign * Decimal(units(multiplier)) / _D_SCALE
        return pnl.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


def _finish(state: TradeState, multiplier: int) -> TradeResult:
    return trade_result(
        state.first_seq, state.direction, state.entry_ts, state.exit_ts, state.entry_qty,
        state.entry_notional, state.exit_qty, state.exit_notional, state.commission,
        state.position, state.max_position, multiplier,
        tuple(
            FillPart(seq, role, Decimal(qty) / _D_SCALE, Decimal(fee) / _D_SCALE)
            for seq, role, qty, fee in state.fills
        ),
    )  # fmt: skip


class TradeSums(NamedTuple):
    """A trade's results as exact integers in 1e-8 units (what a rebuild stores)."""

    id: int
    direction: int  # +1 long, -1 short
    entry_ts: int
    exit_ts: int | None
    qty: int
    max_position: int
    open_qty: int
    entry_price: int
    exit_price: int | None
    gross_pnl: int
    commission: int

    @property
    def net_pnl(self) -> int:
        return self.gross_pnl - self.commission


def trade_sums(
    first_seq: int,
    direction: int,
    entry_ts: int,
    exit_ts: int | None,
    entry_qty: int,
    entry_notional: int,
    exit_qty: int,
    exit_notional: int,
    commission: int,
    position: int,
    max_position: int,
    multiplier: int,
) -> TradeSums:
    """The results of a trade from its exact integer sums (1e-8 units; notional 1e-16).

    Every rounding is one exact half-even division of integers, so the compiled path
    (kernel.py), which hands over the same integers, gives the same results.
    """
    # Realised PnL: exits against the average entry cost of the quantity they closed.
    # For a closed trade exit_qty == entry_qty, so this is exit - entry notional.
    if exit_qty == entry_qty:
        realised = (exit_notional - entry_notional) * direction * multiplier  # 1e-24 units
        gross = _half_even(realised, SCALE2)
    else:
        realised = (exit_notional * entry_qty - entry_notional * exit_qty) * direction
        gross = _half_even(realised * multiplier, entry_qty * SCALE2)
    return TradeSums(
        first_seq, direction, entry_ts, exit_ts, entry_qty, max_position, abs(position),
        _half_even(entry_notional, entry_qty),
        _half_even(exit_notional, exit_qty) if exit_qty else None, gross, commission,
    )  # fmt: skip


def trade_result(
    first_seq: int,
    direction: int,
    entry_ts: int,
    exit_ts: int | None,
    entry_qty: int,
    entry_notional: int,
    exit_qty: int,
    exit_notional: int,
    commission: int,
    position: int,
    max_position: int,
    multiplier: int,
    fills: tuple[FillPart, ...],
) -> TradeResult:
    """The Decimal results of a trade (`trade_sums`, as Decimals)."""
    t = trade_sums(
        first_seq, direction, entry_ts, exit_ts, entry_qty, entry_notional, exit_qty,
        exit_notional, commission, position, max_position, multiplier,
    )  # fmt: skip
    return TradeResult(
        id=first_seq,
        direction="long" if direction > 0 else "short",
        qty=Decimal(entry_qty) / _D_SCALE,
        max_position=Decimal(max_position) / _D_SCALE,
        entry_ts=entry_ts,
        exit_ts=exit_ts,
        entry_price=_decimal(t.entry_price),
        exit_price=_decimal(t.exit_price) if t.exit_price is not None else None,
        open_qty=Decimal(t.open_qty) / _D_SCALE,
        gross_pnl=_decimal(t.gross_pnl),
        commission=_decimal(commission),
        net_pnl=_decimal(t.net_pnl),
        fills=fills,
        entry_notional=Decimal(entry_notional) / _D_SCALE2,
        exit_notional=Decimal(exit_notional) / _D_SCALE2,
    )


def sums_of(trade: TradeResult) -> TradeSums:
    """A TradeResult's results back as integers in 1e-8 units (each has at most 8 places)."""

    def scaled(value: Decimal) -> int:
        return int(value.scaleb(8))

    return TradeSums(
        trade.id, 1 if trade.direction == "long" else -1, trade.entry_ts, trade.exit_ts,
        scaled(trade.qty), scaled(trade.max_position), scaled(trade.open_qty),
        scaled(trade.entry_price),
        None if trade.exit_price is None else scaled(trade.exit_price),
        scaled(trade.gross_pnl), scaled(trade.commission),
    )  # fmt: skip


def _half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator (> 0) rounded half-even to an integer, exactly."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def _decimal(scaled: int) -> Decimal:
    """An integer count of 1e-8 as a Decimal with 8 places (what quantize(1e-8) gives)."""
    return Decimal(scaled).scaleb(-8)


class Position:
    """Builds trades one fill at a time (`apply`), starting flat."""

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = units(multiplier)
        self.trade: TradeState | None = None

    def apply(self, fill: Fill) -> TradeResult | None:
        """Apply a fill; returns the trade it closed, if any."""
        qty, price, fee = units(fill.qty), units(fill.price), units(fill.commission)
        if qty <= 0:
            raise ValueError(f"fill {fill.seq}: qty must be > 0, got {fill.qty}")
        signed = qty if fill.side == "buy" else -qty
        trade = self.trade
        if trade is None:
            self.trade = self._open(fill, signed, qty, price, fee)
            return None
        if (signed > 0) == (trade.direction > 0):
            trade.add(fill, "entry", qty, price, fee)
            return None
        held = abs(trade.position)
        if qty < held:
            trade.add(fill, "exit", qty, price, fee)
            return None
        closing_fee = fee if qty == held else _pro_rata(fee, held, qty)
        trade.add(fill, "exit", held, price, closing_fee)
        trade.exit_ts = fill.ts
        closed = _finish(trade, self.multiplier)
        rest = qty - held
        self.trade = self._open(fill, signed, rest, price, fee - closing_fee) if rest else None
        return closed

    def resume(self, fill: Fill, qty: float, commission: float) -> None:
        """Start from the trade that `fill` opened by crossing zero with `qty` left over."""
        signed = 1 if fill.side == "buy" else -1
        self.trade = self._open(fill, signed, units(qty), units(fill.price), units(commission))

    def _open(self, fill: Fill, signed: int, qty: int, price: int, fee: int) -> TradeState:
        state = TradeState(first_seq=fill.seq, direction=1 if signed > 0 else -1, entry_ts=fill.ts)
        state.add(fill, "entry", qty, price, fee)
        return state

    def open_trade(self) -> TradeResult | None:
        return _finish(self.trade, self.multiplier) if self.trade is not None else None


def _pro_rata(fee: int, part: int, whole: int) -> int:
    """`fee * part / whole` rounded half-even to 1e-8; the remainder goes to the other part."""
    return _half_even(fee * part, whole)


def reconstruct(fills: Iterable[Fill], multiplier: float = 1.0) -> list[TradeResult]:
    """Every trade of one (run, account, symbol), from fills sorted by (ts, seq), starting flat.

    The last trade is open when the fills do not end flat.
    """
    return list(iter_trades(fills, multiplier))


def iter_trades(
    fills: Iterable[Fill], multiplier: float = 1.0, *, position: Position | None = None
) -> Iterator[TradeResult]:
    """Trades as they close; a `position` already holding a trade carries on from it."""
    position = position or Position(multiplier)
    for fill in fills:
        closed = position.apply(fill)
        if closed is not None:
            yield closed
    still_open = position.open_trade()
    if still_open is not None:
        yield still_open
