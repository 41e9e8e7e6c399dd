"""Hand-made 1-second bars and an event collector for the matching-engine tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.backtester.data import NS_PER_SECOND, Seconds
from services.backtester.matching import Event, FillRules, Matcher
from services.backtester.orders import Execution, OrderUpdate

T0 = 1_700_006_400 * NS_PER_SECOND  # 2023-11-15 00:00:00 UTC, a day boundary


def seconds(rows: Sequence[tuple[float, float, float, float, float]], start: int = T0) -> Seconds:
    """1-second bars from (open, high, low, close, volume) rows, one per second from `start`."""
    values = np.array(rows, dtype=np.float64).reshape(-1, 5)
    ts = start + np.arange(len(values), dtype=np.int64) * NS_PER_SECOND
    return Seconds(ts, *(np.ascontiguousarray(values[:, i]) for i in range(5)))


def at(second: int) -> int:
    return T0 + second * NS_PER_SECOND


class Book:
    """A matcher over `rows` that records everything it emits."""

    def __init__(
        self, rows: Sequence[tuple[float, float, float, float, float]], **rules: object
    ) -> None:
        self.events: list[Event] = []
        self.bars = seconds(rows)
        values: dict[str, object] = {"tick_size": 0.25}
        values.update(rules)
        self.matcher = Matcher(self.bars, FillRules(**values), self.events.append)  # type: ignore[arg-type]

    def run(self, lo: int = 0, hi: int | None = None) -> None:
        hi = len(self.bars) if hi is None else hi
        until = T0 + hi * NS_PER_SECOND
        self.matcher.advance(lo, hi, until)

    @property
    def fills(self) -> list[Execution]:
        return [e for e in self.events if isinstance(e, Execution)]

    def statuses(self, order_id: str) -> list[str]:
        return [
            str(e.status) for e in self.events
            if isinstance(e, OrderUpdate) and e.order_id == order_id
        ]

    def updates(self, order_id: str) -> list[OrderUpdate]:
        return [e for e in self.events if isinstance(e, OrderUpdate) and e.order_id == order_id]
