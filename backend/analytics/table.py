"""Closed trades as columns, for metrics over 100,000 trades in milliseconds. Pure.

Money is held exactly, as integers of 1e-8 (the stored scale of every amount:
`Numeric(24, 8)`), so sums and running totals are exact; a value is turned into
a float only when it is served. Times are epoch nanoseconds. The rows are kept
in the order metrics need: by exit time, then entry time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from backend.ingest.domain import MAX_TOTAL_UNITS, DomainError

UNIT = 100_000_000  # 1e-8 of the currency: the scale of every stored amount
ONE_UNIT = Decimal(1)
NS_PER_SECOND = 1_000_000_000
# Running totals are int64: exact while the sum of |amounts| stays below 2**62 units
# (46 billion in the currency), far beyond any one journal's PnL (backend/ingest/domain.py).

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Labels = npt.NDArray[np.object_]


@dataclass(frozen=True)
class ClosedTrade:
    """One closed trade as a record (tests and small inputs; TradeTable holds many)."""

    net_pnl: Decimal
    gross_pnl: Decimal
    commission: Decimal
    entry_ts: int
    exit_ts: int
    r_multiple: float | None = None
    mfe: float | None = None  # price distance
    mae: float | None = None
    captured: float | None = None  # (exit - entry) in the trade's direction, price distance


def to_units(amount: Decimal | float | int) -> int:
    """An amount in 1e-8 units, rounded half-even past the 8th decimal."""
    exact = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return int(exact.scaleb(8).quantize(ONE_UNIT))


def money(units: int) -> float:
    """The float nearest to an amount of `units`, as served."""
    return float(Decimal(units).scaleb(-8))


def mean_money(total_units: int, count: int) -> float:
    """total / count, rounded to 1e-8 (half-even), as served."""
    return money(int((Decimal(total_units) / count).quantize(ONE_UNIT)))


def exact_sum(units: Ints) -> int:
    """The exact sum of int64 amounts (whole currency and the remainder summed apart)."""
    whole, rest = np.divmod(units, UNIT)
    return int(whole.sum()) * UNIT + int(rest.sum())


def running_total(units: Ints) -> Ints:
    """Cumulative sums, exact; refuses amounts whose running total could overflow int64."""
    if units.size and exact_sum(np.abs(units)) >= MAX_TOTAL_UNITS:
        raise DomainError(
            f"the trades' amounts add up to more than {MAX_TOTAL_UNITS // UNIT:,} "
            "(the most that analytics total exactly); narrow the selection of runs"
        )
    result: Ints = np.cumsum(units, dtype=np.int64)
    return result


def _labels(values: Sequence[object] | Labels) -> Labels:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


@dataclass(frozen=True)
class TradeTable:
    """Closed trades, one array a column, rows ordered by (exit_ts, entry_ts)."""

    net: Ints
    gross: Ints
    commission: Ints
    entry_ts: Ints
    exit_ts: Ints
    r_multiple: Floats  # NaN: no known initial risk
    mfe: Floats  # price distances; NaN: unknown
    mae: Floats
    captured: Floats  # (exit - entry) in the trade's direction
    symbol: Labels = field(default_factory=lambda: _labels([]))
    direction: Labels = field(default_factory=lambda: _labels([]))
    trend: Labels = field(default_factory=lambda: _labels([]))
    volatility: Labels = field(default_factory=lambda: _labels([]))
    instance: Labels = field(default_factory=lambda: _labels([]))
    tags: Labels = field(default_factory=lambda: _labels([]))  # a tuple of str per trade
    playbook: Labels = field(default_factory=lambda: _labels([]))  # its playbook's name or None
    mistakes: Labels = field(default_factory=lambda: _labels([]))  # a tuple of mistake names

    def __len__(self) -> int:
        return int(self.net.size)

    @classmethod
    def build(
        cls,
        *,
        net: npt.ArrayLike,
        gross: npt.ArrayLike,
        commission: npt.ArrayLike,
        entry_ts: npt.ArrayLike,
        exit_ts: npt.ArrayLike,
        r_multiple: Sequence[float | None] | Floats,
        mfe: Sequence[float | None] | Floats,
        mae: Sequence[float | None] | Floats,
        captured: Sequence[float | None] | Floats,
        symbol: Sequence[str] | Labels | None = None,
        direction: Sequence[str] | Labels | None = None,
        trend: Sequence[str | None] | Labels | None = None,
        volatility: Sequence[str | None] | Labels | None = None,
        instance: Sequence[str | None] | Labels | None = None,
        tags: Sequence[Sequence[str]] | Labels | None = None,
        playbook: Sequence[str | None] | Labels | None = None,
        mistakes: Sequence[Sequence[str]] | None = None,
    ) -> TradeTable:
        """Columns from plain sequences (None for unknown floats), sorted for metrics."""
        count = len(np.asarray(net))

        def floats(values: Sequence[float | None] | Floats) -> Floats:
            return np.array(values, dtype=np.float64)  # None becomes NaN

        def labels(values: Sequence[str | None] | Labels | None) -> Labels:
            return _labels(values if values is not None else [None] * count)

        table = cls(
            net=np.array(net, dtype=np.int64),
            gross=np.array(gross, dtype=np.int64),
            commission=np.array(commission, dtype=np.int64),
            entry_ts=np.array(entry_ts, dtype=np.int64),
            exit_ts=np.array(exit_ts, dtype=np.int64),
            r_multiple=floats(r_multiple),
            mfe=floats(mfe),
            mae=floats(mae),
            captured=floats(captured),
            symbol=labels(symbol),
            direction=labels(direction),
            trend=labels(trend),
            volatility=labels(volatility),
            instance=labels(instance),
            tags=_labels(
                tags
                if isinstance(tags, np.ndarray)  # tuples already (the repository's)
                else [tuple(t) for t in tags]
                if tags is not None
                else [()] * count
            ),
            playbook=labels(playbook),
            mistakes=_labels(
                [tuple(m) for m in mistakes] if mistakes is not None else [()] * count
            ),
        )
        return table.in_exit_order()

    @classmethod
    def from_trades(cls, trades: Sequence[ClosedTrade]) -> TradeTable:
        return cls.build(
            net=[to_units(t.net_pnl) for t in trades],
            gross=[to_units(t.gross_pnl) for t in trades],
            commission=[to_units(t.commission) for t in trades],
            entry_ts=[t.entry_ts for t in trades],
            exit_ts=[t.exit_ts for t in trades],
            r_multiple=[t.r_multiple for t in trades],
            mfe=[t.mfe for t in trades],
            mae=[t.mae for t in trades],
            captured=[t.captured for t in trades],
        )

    def in_exit_order(self) -> TradeTable:
        ordered = bool(np.all(np.diff(self.exit_ts) >= 0)) and self._ties_ordered()
        return self if ordered else self.take(np.lexsort((self.entry_ts, self.exit_ts)))

    def _ties_ordered(self) -> bool:
        ties = np.flatnonzero(np.diff(self.exit_ts) == 0)
        return bool(np.all(self.entry_ts[ties] <= self.entry_ts[ties + 1]))

    def take(self, rows: npt.NDArray[np.intp], *, labels: bool = True) -> TradeTable:
        """The trades at `rows` (increasing row numbers keep the exit order).

        Without `labels` the result has the numeric columns only (what metrics read).
        """
        names = _NUMERIC + _LABELS if labels else _NUMERIC
        return TradeTable(**{name: getattr(self, name)[rows] for name in names})

    @property
    def hold_seconds(self) -> Floats:
        held = self.exit_ts - self.entry_ts
        seconds: Floats = (held // NS_PER_SECOND) + (held % NS_PER_SECOND) / NS_PER_SECOND
        return seconds


_NUMERIC = (
    "net", "gross", "commission", "entry_ts", "exit_ts", "r_multiple", "mfe", "mae", "captured",
)  # fmt: skip
_LABELS = (
    "symbol", "direction", "trend", "volatility", "instance", "tags", "playbook", "mistakes",
)  # fmt: skip
