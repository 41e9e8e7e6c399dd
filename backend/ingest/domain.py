"""The input domain: every number and time the ingest validator accepts. Pure.

What the validator accepts, storage holds and every derivation computes with,
so a limit lives here once and the schemas, the journal importer and the docs'
contract page (docs/ingest.md, "Input domain") read it from here. The Python
exporter SDK mirrors these constants (fillbook_exporter/domain.py); a test
asserts that both agree.

- Times are UTC epoch nanoseconds from 1970 up to, not including, 2200-01-01.
  int64 nanoseconds end on 2262-04-11; the 62 years between leave room for
  everything derived from a time (a bar's end, a time-zone shift, a calendar
  day) without overflowing.
- Amounts (quantities, prices, multipliers, tick sizes, commissions) are
  counted in 1e-8 units (`round(x * 1e8)`, backend/trades/reconstruct.py). That
  is exact for floats below 2**53 / 1e8 (~9.007e7), so amounts are at most
  90,000,000, and an amount that must be positive is at least 1e-8: a smaller
  one would be counted as 0.
- Timeframes are at most 366 days.

Derived money has a domain too. Analytics count amounts as int64 1e-8 units, so
a trade's money (PnL, commission, excursion and risk amounts) must stay within
MAX_TRADE_MONEY (10 billion): a position whose rebuild would give more is
marked failed with that reason instead of being stored wrong; run totals beyond
MAX_TOTAL_MONEY (2**62 units, ~46 billion) are refused with a 422.
"""

from __future__ import annotations

from decimal import Decimal

NS_PER_SECOND = 1_000_000_000
MIN_TS_NS = 0  # 1970-01-01T00:00:00Z; integers below 1e17 are refused as another unit
MAX_TS_NS = 7_258_118_400 * NS_PER_SECOND  # 2200-01-01T00:00:00Z, exclusive
MAX_TS_TEXT = "2200-01-01T00:00:00Z"

AMOUNT_QUANTUM = 1e-8  # the smallest amount counted
MIN_AMOUNT = AMOUNT_QUANTUM
MAX_AMOUNT = 90_000_000.0  # below 2**53 / 1e8: 8 decimals still exact in a float
MAX_CAPITAL = 10_000_000_000.0  # a run's initial capital
MAX_TIMEFRAME_SECONDS = 366 * 86_400
MAX_TRADE_MONEY = 10_000_000_000  # one trade's PnL, commission, excursion or risk amount
MAX_TOTAL_UNITS = 2**62  # the sum of |amounts| analytics total exactly, in 1e-8 units


# The amount bounds are pydantic constraints in backend/ingest/schemas.py (native: no Python
# call per field); backend/ingest/decode.py words their messages.


class DomainError(ValueError):
    """A value outside the input domain; the message names the value and the limit."""


def check_ts(ns: int, text: object | None = None) -> int:
    """`ns` if it is a time the service can store and derive from."""
    shown = ns if text is None else text
    if ns < MIN_TS_NS:
        raise DomainError(f"must be on or after 1970-01-01T00:00:00Z, got {shown}")
    if ns >= MAX_TS_NS:
        raise DomainError(f"must be before {MAX_TS_TEXT} (epoch ns {MAX_TS_NS}), got {shown}")
    return ns


def check_trade_money(name: str, value: float | Decimal | None, where: str) -> None:
    """Refuse a derived trade amount beyond MAX_TRADE_MONEY, naming it and the trade."""
    if value is not None and abs(float(value)) > MAX_TRADE_MONEY:
        raise DomainError(
            f"{where}: {name} {float(value):.6g} is beyond the {MAX_TRADE_MONEY:,} a trade "
            "may amount to; check the instrument's multiplier and the fills' qty and price"
        )


def check_currency(code: str) -> str:
    """An ISO 4217 code: three capital letters, as FX pairs (EURUSD) are spelled from."""
    if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
        raise DomainError(f"must be three capital letters (ISO 4217, e.g. USD), got {code!r}")
    return code


def check_timeframe(seconds: int) -> int:
    if seconds > MAX_TIMEFRAME_SECONDS:
        raise DomainError(f"must be at most 366d, got {seconds} seconds")
    return seconds


# Order statuses after which an order works no more (the contract's order `status`), and
# as an SQL list (backend/ingest/repository.py keeps each order's first such time).
FINISHED_STATUSES = frozenset({"filled", "cancelled", "rejected", "expired"})
FINISHED_SQL = ", ".join(f"'{status}'" for status in sorted(FINISHED_STATUSES))
