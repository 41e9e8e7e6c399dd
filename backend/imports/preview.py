"""From a parsed file to ingest events: zones, execution ids, instruments, validation. Pure.

- Times: each fill's wall-clock time is read on the file's clock (backend/imports/clock.py):
  a time in a DST gap refuses its row, a repeated hour takes the pass that keeps the file's
  order.
- Ids: the broker's own id where the file has one (`ibkr:0000e0d5.6578d0f2.01.01`), so a
  re-import or an overlapping later export stores only what is new. Otherwise derived from
  the row's content and the count of identical rows before it (`ninjatrader8:row:<hash>:2`),
  so two identical fills are two fills, and the same file gives the same ids again.
- Every event is validated by the ingest contract's own schema (backend/ingest/schemas.py);
  an event it refuses is a skipped row with the contract's reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from backend.imports.clock import FileClock
from backend.imports.model import InstrumentInfo, Parsed, RowError, Skip
from backend.imports.text import known_multiplier
from backend.ingest.decode import event_problems
from backend.ingest.schemas import EventListAdapter

NS = 1_000_000_000
ID_FAMILIES = {"ibkr_flex_xml": "ibkr", "ibkr_flex_csv": "ibkr",
               "tradovate_fills": "tradovate-fill",
               "tradovate_orders": "tradovate-order"}  # fmt: skip


@dataclass
class Fill:
    row: int
    execution_id: str
    ts: int  # UTC epoch ns
    symbol: str
    side: str
    qty: float
    price: float
    commission: float
    account: str
    order_id: str | None

    def event(self, account: str | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": "execution", "id": self.execution_id, "ts": self.ts, "symbol": self.symbol,
            "side": self.side, "qty": self.qty, "price": self.price,
            "commission": self.commission, "account": self.account if account is None else account,
        }  # fmt: skip
        if self.order_id:
            event["order_id"] = self.order_id[:200]
        return event

    @property
    def time(self) -> str:
        when = dt.datetime.fromtimestamp(self.ts // NS, dt.UTC).replace(
            microsecond=(self.ts % NS) // 1000)
        return when.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class StoredInstrument:
    multiplier: float
    tick_size: float | None
    currency: str | None


@dataclass
class InstrumentPlan:
    symbol: str
    action: str  # create | update | unchanged
    multiplier: float | None
    tick_size: float | None
    currency: str | None
    warning: str | None
    event: dict[str, Any] | None  # the instrument event to send, if any


def _ns(instant: dt.datetime) -> int:
    delta = instant - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * NS + delta.microseconds * 1000


def resolve(parsed: Parsed, format_id: str, zone: ZoneInfo | None) -> tuple[list[Fill], list[Skip]]:
    """The file's fills with UTC times and execution ids, and the rows refused on the way."""
    family = ID_FAMILIES.get(format_id, format_id)
    clock = FileClock(zone)
    seen: Counter[str] = Counter()
    fills: list[Fill] = []
    skipped: list[Skip] = []
    for raw in parsed.fills:
        try:
            instant = clock(raw.when)
        except RowError as exc:
            skipped.append(Skip(raw.row, str(exc)))
            continue
        ts = _ns(instant)
        if raw.broker_id:
            execution_id = f"{family}:{raw.broker_id}"
        else:
            content = "|".join(str(v) for v in (ts, raw.symbol, raw.side, repr(raw.qty),
                               repr(raw.price), repr(raw.commission), raw.account,
                               raw.order_id or ""))  # fmt: skip
            digest = hashlib.sha256(content.encode()).hexdigest()[:24]
            seen[digest] += 1
            execution_id = f"{family}:row:{digest}:{seen[digest]}"
        # Sums of fees (0.35 + 0.05) to the 1e-8 units amounts are counted in.
        fills.append(Fill(raw.row, execution_id[:200], ts, raw.symbol, raw.side, raw.qty,
                          raw.price, round(raw.commission, 8), raw.account,
                          raw.order_id))  # fmt: skip
    return fills, skipped


Events = list[dict[str, Any]]


def validate(
    fills: list[Fill], account: str | None = None
) -> tuple[Events, list[Fill], list[Skip]]:
    """The ingest contract's events of `fills` (validated), the fills kept, the refused rows."""
    events = [fill.event(account) for fill in fills]
    try:
        return EventListAdapter.validate_python(events), fills, []  # type: ignore[return-value]
    except ValidationError as exc:
        problems = event_problems(exc, events)
    kept = [fill for index, fill in enumerate(fills) if index not in problems]
    skipped = [Skip(fills[index].row, reason) for index, reason in sorted(problems.items())]
    validated = EventListAdapter.validate_python([e for i, e in enumerate(events)
                                                  if i not in problems])  # fmt: skip
    return validated, kept, skipped  # type: ignore[return-value]


def plan_instruments(
    infos: dict[str, InstrumentInfo], symbols: Iterable[str],
    stored: dict[str, StoredInstrument],
) -> list[InstrumentPlan]:  # fmt: skip
    """What importing does to each instrument the fills trade, with a warning where the
    multiplier is unknown (never silently 1) or would change."""
    plans = []
    for symbol in sorted(set(symbols)):
        info = infos.get(symbol) or InstrumentInfo(symbol)
        have = stored.get(symbol)
        from_file = info.multiplier
        multiplier = from_file
        if multiplier is None and info.asset_class in ("stock",):
            multiplier = 1.0
        if multiplier is None and have is None:
            multiplier = known_multiplier(symbol)
        tick = info.tick_size if info.tick_size is not None else (have.tick_size if have else None)
        currency = info.currency or (have.currency if have else None)
        event: dict[str, Any] = {"type": "instrument", "symbol": symbol}
        warning = None
        if have is None:
            if multiplier is None:
                warning = (f"multiplier unknown: the file does not say it and {symbol} is not "
                           "in your instruments; its trades are priced at 1 until you set it "
                           f"(PATCH /api/instruments/{symbol})")  # fmt: skip
            else:
                event["multiplier"] = multiplier
            action = "create"
        else:
            if multiplier is not None and multiplier != have.multiplier:
                event["multiplier"] = multiplier
                warning = (f"the file says multiplier {multiplier:g}, your instrument has "
                           f"{have.multiplier:g}: an instrument with trades keeps its "
                           "multiplier (the change is refused) unless you change it with "
                           f"PATCH /api/instruments/{symbol}")  # fmt: skip
            multiplier = multiplier if multiplier is not None else have.multiplier
            changed = ("multiplier" in event or tick != have.tick_size
                       or currency != have.currency)  # fmt: skip
            action = "update" if changed else "unchanged"
        if tick is not None:
            event["tick_size"] = tick
        if currency is not None:
            event["currency"] = currency[:16]
        if info.asset_class is not None:
            event["asset_class"] = info.asset_class
        plans.append(InstrumentPlan(symbol, action, multiplier, tick, currency, warning,
                                    event if action != "unchanged" else None))  # fmt: skip
    return plans
