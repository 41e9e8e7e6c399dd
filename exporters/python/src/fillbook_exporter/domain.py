"""The service's input domain, checked where the caller can still fix a value.

These constants mirror the service's `backend/ingest/domain.py` (the contract page
docs/ingest.md lists them); a test on the backend side asserts that both agree. The
SDK does not import the backend: it is installed on machines that have none.

- Times: UTC from 1970-01-01 up to, not including, 2200-01-01. Integers are epoch
  nanoseconds and must be at least 1e17 (1973-03-03): the service reads smaller ones
  as seconds, milliseconds or microseconds and refuses them.
- Amounts the money arithmetic counts in 1e-8 units (quantities, prices, multipliers,
  tick sizes, commissions): finite and at most 90,000,000, because above that a float
  no longer holds 8 decimals exactly; one that must be positive is at least 1e-8, since
  a smaller one would be counted as 0.
- A run's initial capital: at least 1e-8, at most 10,000,000,000.
- Bar volumes: finite and >= 0 (not money, no upper limit).
- Timeframes: a count and a unit s, m, h or d, at most 366 days.

Each check raises `DomainError` (a `ValueError`) whose message names the field, the
value and the limit, e.g. `qty: must be at least 1e-08 (the smallest amount counted),
got 1e-09`.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from decimal import Decimal

NS_PER_SECOND = 1_000_000_000
MIN_TS_NS = 0  # 1970-01-01T00:00:00Z (as ISO text or a datetime; integers: NS_FLOOR)
NS_FLOOR = 10**17  # integers below it look like seconds, milliseconds or microseconds
MAX_TS_NS = 7_258_118_400 * NS_PER_SECOND  # 2200-01-01T00:00:00Z, exclusive
MAX_TS_TEXT = "2200-01-01T00:00:00Z"
MIN_TS = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_TS = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)

AMOUNT_QUANTUM = 1e-8  # the smallest amount counted
MIN_AMOUNT = AMOUNT_QUANTUM
MAX_AMOUNT = 90_000_000.0  # below 2**53 / 1e8: 8 decimals still exact in a float
MAX_CAPITAL = 10_000_000_000.0  # a run's initial capital
MAX_TIMEFRAME_SECONDS = 366 * 86_400

POSITIVE_AMOUNTS = frozenset({
    "qty", "price", "limit_price", "stop_price", "avg_fill_price",
    "open", "high", "low", "close", "multiplier", "tick_size",
})
"""Fields that must be in [MIN_AMOUNT, MAX_AMOUNT]."""
AMOUNTS = frozenset({"commission", "filled_qty"})
"""Fields that must be in [0, MAX_AMOUNT]."""
VOLUMES = frozenset({"volume", "bid_volume", "ask_volume"})
"""Fields that must be finite and >= 0."""

_MAX_TEXT = "at most {limit:,.0f} (above it a float no longer holds 8 decimals exactly)"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_TIMEFRAME = re.compile(r"([1-9]\d{0,5})([smhd])")

Number = int | float | Decimal


class DomainError(ValueError):
    """A value the service would refuse; the message names the field, value and limit."""


def positive_amount(value: Number, field: str) -> int | float:
    """A quantity, price, multiplier or tick size: finite, in [1e-8, 90,000,000]."""
    result = _number(value, field)
    if MIN_AMOUNT <= result <= MAX_AMOUNT:
        return result
    _check_finite(result, field)
    if result <= 0:
        raise DomainError(f"{field}: must be greater than 0, got {result!r}")
    if result < MIN_AMOUNT:
        raise DomainError(
            f"{field}: must be at least {MIN_AMOUNT:g} (the smallest amount counted), "
            f"got {result!r}"
        )
    raise DomainError(f"{field}: must be {_MAX_TEXT.format(limit=MAX_AMOUNT)}, got {result!r}")


def amount(value: Number, field: str) -> int | float:
    """A commission or filled quantity: finite, in [0, 90,000,000]."""
    result = _number(value, field)
    if 0 <= result <= MAX_AMOUNT:
        return result
    _check_finite(result, field)
    if result < 0:
        raise DomainError(f"{field}: must be greater than or equal to 0, got {result!r}")
    raise DomainError(f"{field}: must be {_MAX_TEXT.format(limit=MAX_AMOUNT)}, got {result!r}")


def capital(value: Number, field: str = "run.initial_capital") -> int | float:
    """A run's initial capital: finite, in [1e-8, 10,000,000,000]."""
    result = _number(value, field)
    if MIN_AMOUNT <= result <= MAX_CAPITAL:
        return result
    _check_finite(result, field)
    if result < MIN_AMOUNT:
        raise DomainError(f"{field}: must be at least {MIN_AMOUNT:g}, got {result!r}")
    raise DomainError(f"{field}: must be at most {MAX_CAPITAL:,.0f}, got {result!r}")


def volume(value: Number, field: str) -> int | float:
    """A bar volume: finite and >= 0."""
    result = _number(value, field)
    if 0 <= result < math.inf:
        return result
    _check_finite(result, field)
    raise DomainError(f"{field}: must be greater than or equal to 0, got {result!r}")


def finite(value: Number, field: str) -> int | float:
    """Any number the wire carries (e.g. a run bar's named values): finite."""
    result = _number(value, field)
    _check_finite(result, field)
    return result


def ts_ns(value: int, field: str = "ts") -> int:
    """Integer epoch nanoseconds in [1e17, MAX_TS_NS)."""
    if value < NS_FLOOR:
        raise DomainError(f"{field}: integers are epoch nanoseconds, got {value} (too small: "
                          "below 10**17 it reads as seconds, milliseconds or microseconds)")
    if value >= MAX_TS_NS:
        raise DomainError(f"{field}: must be before {MAX_TS_TEXT} (epoch ns {MAX_TS_NS}), "
                          f"got {value}")
    return value


def ts_instant(when: dt.datetime, field: str = "ts", shown: object = None) -> dt.datetime:
    """An aware time on or after 1970-01-01 and before 2200-01-01 UTC."""
    text = when.isoformat() if shown is None else shown
    if when < MIN_TS:
        raise DomainError(f"{field}: must be on or after 1970-01-01T00:00:00Z, got {text}")
    if when >= MAX_TS:
        raise DomainError(f"{field}: must be before {MAX_TS_TEXT}, got {text}")
    return when


@functools.lru_cache(maxsize=256)
def timeframe_seconds(value: str, field: str = "timeframe") -> int:
    """Seconds in a timeframe such as `5m` (a count and a unit s, m, h, d; at most 366d)."""
    match = _TIMEFRAME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise DomainError(f"{field}: must be a positive number and a unit s, m, h or d "
                          f"(like '1s', '5m', '1h'), got {value!r}")
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds > MAX_TIMEFRAME_SECONDS:
        raise DomainError(f"{field}: must be at most 366d, got {value!r} ({seconds} seconds)")
    return seconds


def _number(value: Number, field: str) -> int | float:
    """An int stays an int (JSON integer); anything else numeric becomes a float."""
    if isinstance(value, bool):
        raise TypeError(f"{field}: expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str | bytes):
        raise TypeError(f"{field}: expected a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{field}: expected a number, got {value!r}") from None


def _check_finite(value: float, field: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise DomainError(f"{field}: must be finite, got {value!r}")
