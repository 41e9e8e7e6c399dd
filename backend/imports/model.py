"""What a parser reads out of a file, before time zones and ids are applied. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Side = Literal["buy", "sell"]


class FileError(ValueError):
    """The file as a whole cannot be read as the format (not one row: the file)."""


class RowError(ValueError):
    """One row cannot become a fill; it is skipped with this reason."""


@dataclass
class RawFill:
    """One fill as the file writes it. `when` is naive for a wall-clock time of the
    file's zone, aware when the file says its offset."""

    row: int
    when: dt.datetime
    symbol: str
    side: Side
    qty: float
    price: float
    commission: float = 0.0
    account: str = ""
    broker_id: str | None = None  # the broker's own execution (or trade) id
    order_id: str | None = None


@dataclass
class InstrumentInfo:
    """What the file says about an instrument; None where it says nothing."""

    symbol: str
    multiplier: float | None = None
    tick_size: float | None = None
    currency: str | None = None
    asset_class: str | None = None  # "stock", "future", "option", "forex", "cfd"


@dataclass
class Skip:
    row: int
    reason: str


@dataclass
class Parsed:
    fills: list[RawFill] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    instruments: dict[str, InstrumentInfo] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows_total: int = 0

    def note_instrument(self, info: InstrumentInfo) -> None:
        """Keep the first non-empty value of each field per symbol."""
        known = self.instruments.get(info.symbol)
        if known is None:
            self.instruments[info.symbol] = info
            return
        for name in ("multiplier", "tick_size", "currency", "asset_class"):
            if getattr(known, name) is None and getattr(info, name) is not None:
                setattr(known, name, getattr(info, name))


@dataclass(frozen=True)
class Mapping:
    """The generic CSV mapper's columns (field → column name) and how to read times."""

    columns: dict[str, str]
    date_format: str | None = None

    REQUIRED = ("time", "symbol", "qty", "price")
    FIELDS = ("time", "symbol", "side", "qty", "price", "commission", "execution_id",
              "account", "order_id")  # fmt: skip

    def missing(self) -> list[str]:
        return [name for name in self.REQUIRED if not self.columns.get(name)]
