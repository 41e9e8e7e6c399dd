"""Time helpers shared by the adapters."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def zone(tz: str | dt.tzinfo) -> dt.tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def aware(when: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """`when` with its own offset, or read in `tz` when naive."""
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def timeframe(seconds: float) -> str:
    """The contract's timeframe for a bar length: 86400 -> "1d", 300 -> "5m"."""
    whole = round(seconds)
    if whole <= 0:
        raise ValueError(f"bar length must be positive, got {seconds} s")
    for unit, size in UNITS:
        if whole % size == 0:
            return f"{whole // size}{unit}"
    raise AssertionError("unreachable: every length is a whole number of seconds")
